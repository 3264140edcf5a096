import assert from 'node:assert/strict';
import { pino } from 'pino';
import { CallEngine } from '../../../src/calls/CallEngine.js';
import type { CallStore, Written } from '../../../src/calls/CallStore.js';
import type { Call } from '../../../src/calls/types.js';
import { DeliveryOrder } from '../../../src/sse/DeliveryOrder.js';
import { EVENT_NAMES, type DeliveredEvent } from '../../../src/sse/events.js';

const call: Call = {
  owner: 'sam',
  callId: 'c1',
  direction: 'out',
  caller: 'sam@example.test/web',
  callee: 'ann@example.test',
  peer: 'ann@example.test',
  options: {} as Call['options'],
  state: 'proposed',
  outcome: null,
  reason: null,
  condition: null,
  answeredBy: null,
  createdAt: new Date(),
  answeredAt: null,
  endedAt: null,
};

describe('CallEngine and the order of a user’s events', () => {
  it('hands a change’s event over before a later-stored event of the same user, whichever finishes first', async () => {
    const out: string[] = [];
    const order = new DeliveryOrder((_user, e: DeliveredEvent) => out.push(e.id!));
    const hub = { ordered: order.write.bind(order), deliver: order.deliver.bind(order) };
    let commit!: () => void;
    const committed = new Promise<void>((r) => (commit = r));
    const store = {
      get: async () => call,
      // The ringing change draws id 10 in its transaction and commits only when the test says so.
      update: async (): Promise<Written> => {
        await committed;
        return {
          call: { ...call, state: 'ringing' },
          event: { id: '10', name: EVENT_NAMES.call, payload: { type: 'ringing' } },
        };
      },
    } as unknown as CallStore;
    const engine = new CallEngine({
      store,
      hub,
      sessions: { byUser: () => undefined },
      log: pino({ level: 'silent' }),
      ringMs: 60_000,
    });
    const ringing = engine.advance('sam', 'c1', () => ({ action: 'ringing', side: 'callee' }));
    await new Promise((r) => setImmediate(r));
    // Meanwhile another event of Sam's (a presence, say) is stored with a higher id and handed over first.
    const other = await hub.ordered('sam', async () => ({ id: '11' }));
    hub.deliver('sam', { id: other.id, name: EVENT_NAMES.presence, payload: {} });
    assert.deepEqual(out, [], 'the later event waits for the change begun before it');
    commit();
    assert.equal((await ringing)?.call.state, 'ringing');
    assert.deepEqual(out, ['10', '11'], 'in id order: no stream skips the call’s event');
    engine.stop();
  });
});
