import assert from 'node:assert/strict';
import { TokenCache } from '../../../src/sessions/TokenCache.js';
import type { TokenOwner } from '../../../src/sessions/SessionStore.js';

const owner = (streamId: string): TokenOwner => ({
  streamId,
  username: 'u',
  ended: false,
  issuedAt: new Date(0),
});
const hash = (s: string) => Buffer.from(s);

describe('TokenCache (tokens of live local sessions)', () => {
  it("forgets one stream's tokens and keeps the others'", () => {
    const c = new TokenCache();
    c.set(hash('a1'), owner('ps_a'));
    c.set(hash('a2'), owner('ps_a'));
    c.set(hash('b1'), owner('ps_b'));
    c.forgetStream('ps_a');
    assert.equal(c.get(hash('a1')), undefined);
    assert.equal(c.get(hash('a2')), undefined);
    assert.equal(c.get(hash('b1'))?.streamId, 'ps_b');
    assert.equal(c.size, 1);
    c.forgetStream('ps_a'); // twice, or a stream it never had: nothing happens
    c.forgetStream('ps_none');
    assert.equal(c.size, 1);
  });

  it('a token deleted, or set again for another stream, is no longer forgotten with its first stream', () => {
    const c = new TokenCache();
    c.set(hash('t'), owner('ps_a'));
    c.set(hash('t'), owner('ps_b')); // the same hash now belongs to ps_b
    c.forgetStream('ps_a');
    assert.equal(c.get(hash('t'))?.streamId, 'ps_b');
    c.delete(hash('t'));
    assert.equal(c.get(hash('t')), undefined);
    c.set(hash('u'), owner('ps_b'));
    c.forgetStream('ps_b');
    assert.equal(c.size, 0);
  });
});
