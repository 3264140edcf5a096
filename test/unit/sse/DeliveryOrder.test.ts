import assert from 'node:assert/strict';
import { DeliveryOrder } from '../../../src/sse/DeliveryOrder.js';
import type { DeliveredEvent } from '../../../src/sse/events.js';

/** A write whose outcome the test decides: the stored event's id, none (a duplicate), or a failure. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const ev = (id?: string): DeliveredEvent => ({ id, name: 'chatapi.chat', payload: { id } });
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('DeliveryOrder', () => {
  let out: string[];
  let order: DeliveryOrder;
  beforeEach(() => {
    out = [];
    order = new DeliveryOrder((user, e) => out.push(`${user}:${e.id ?? 'ephemeral'}`));
  });

  /** Starts a write; the caller delivers its event as soon as it is stored, as every feature does. */
  function write(user: string) {
    const d = deferred<{ id: string } | undefined>();
    const done = order
      .write(user, () => d.promise)
      .then(
        (r) => {
          if (r) order.deliver(user, ev(r.id));
        },
        () => undefined,
      );
    return {
      store: async (id?: string) => {
        d.resolve(id === undefined ? undefined : { id });
        await done;
      },
      fail: async () => {
        d.reject(new Error('no'));
        await done;
      },
    };
  }

  it('holds an event until a write begun before it was stored is delivered, then sends both in id order', async () => {
    const send = write('alice');
    const receipt = write('alice');
    await receipt.store('11'); // committed first, with the higher id
    assert.deepEqual(out, []);
    await send.store('10');
    assert.deepEqual(out, ['alice:10', 'alice:11']);
  });

  it('does not hold an event for writes begun after it was stored, nor for other users', async () => {
    const first = write('alice');
    const bob = write('bob');
    await first.store('10');
    const later = write('alice');
    assert.deepEqual(out, ['alice:10']);
    await later.store('12');
    assert.deepEqual(out, ['alice:10', 'alice:12']);
    await bob.store('11');
    assert.deepEqual(out, ['alice:10', 'alice:12', 'bob:11']);
  });

  it('releases held events when the earlier write stored nothing or failed', async () => {
    const dup = write('alice');
    const failing = write('alice');
    const stored = write('alice');
    await stored.store('20');
    await dup.store(undefined);
    assert.deepEqual(out, []);
    await failing.fail();
    assert.deepEqual(out, ['alice:20']);
  });

  it('gives up on a stored event its caller never delivers, after the current turn', async () => {
    const lost = order.write('alice', async () => ({ id: '30' }));
    const next = write('alice');
    await lost;
    await next.store('31');
    assert.deepEqual(out, []);
    await turn();
    assert.deepEqual(out, ['alice:31']);
  });

  it('passes ephemeral events and events of users with nothing in flight straight through', async () => {
    const pending = write('alice');
    order.deliver('alice', ev());
    order.deliver('bob', ev('5'));
    assert.deepEqual(out, ['alice:ephemeral', 'bob:5']);
    await pending.store('6');
    assert.deepEqual(out, ['alice:ephemeral', 'bob:5', 'alice:6']);
  });

  it('stops holding events back behind a write that stalls', async () => {
    order = new DeliveryOrder((user, e) => out.push(`${user}:${e.id ?? 'ephemeral'}`), 1);
    write('alice'); // never completes
    const next = write('alice');
    await next.store('51');
    assert.deepEqual(out, []);
    while (!out.length) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(out, ['alice:51']);
  });

  it('settled() waits for the writes begun before the mark, not for later ones', async () => {
    const before = write('alice');
    const mark = order.mark();
    const after = write('alice');
    let settled = false;
    const s = order.settled('alice', mark).then(() => {
      settled = true;
    });
    await after.store('41');
    await turn();
    assert.equal(settled, false);
    await before.store('40');
    await s;
    assert.deepEqual(out, ['alice:40', 'alice:41']);
    await order.settled('alice', order.mark()); // nothing in flight: at once
  });
});
