import assert from 'node:assert/strict';
import { EarlyReceipts } from '../../../src/messages/EarlyReceipts.js';

describe('EarlyReceipts', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => void (t += ms) };
  };

  it('hands what is held for a key to the first taker, once, in arrival order', () => {
    const held = new EarlyReceipts<string>({ max: 10, ttlMs: 1000 });
    held.hold('k', 'delivered');
    held.hold('k', 'displayed');
    held.hold('other', 'x');
    assert.deepEqual(held.take('k'), ['delivered', 'displayed']);
    assert.deepEqual(held.take('k'), []);
    assert.equal(held.size, 1);
  });

  it('forgets a released entry (the receipt found its message after all)', () => {
    const held = new EarlyReceipts<string>({ max: 10, ttlMs: 1000 });
    const release = held.hold('k', 'delivered');
    release();
    release();
    assert.deepEqual(held.take('k'), []);
    assert.equal(held.size, 0);
  });

  it('drops entries older than the ttl', () => {
    const c = clock();
    const held = new EarlyReceipts<string>({ max: 10, ttlMs: 1000, now: c.now });
    held.hold('old', 'a');
    c.advance(600);
    held.hold('young', 'b');
    c.advance(500);
    assert.deepEqual(held.take('old'), [], 'expired on take');
    held.hold('new', 'c'); // evicts what expired
    assert.deepEqual(held.take('young'), ['b']);
    assert.equal(held.size, 1);
  });

  it('keeps at most `max`, dropping the oldest', () => {
    const held = new EarlyReceipts<number>({ max: 3, ttlMs: 60_000 });
    for (let i = 0; i < 5; i++) held.hold(`k${i}`, i);
    assert.equal(held.size, 3);
    assert.deepEqual(
      [0, 1, 2, 3, 4].flatMap((i) => held.take(`k${i}`)),
      [2, 3, 4],
    );
  });
});
