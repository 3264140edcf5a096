import assert from 'node:assert/strict';
import { pino } from 'pino';
import { EventHub } from '../../../src/sse/EventHub.js';
import type { EventStore, StoredEvent } from '../../../src/messages/EventStore.js';
import type { DeliveredEvent, EventName, Payload } from '../../../src/sse/events.js';

/**
 * Events kept in memory, ids from one sequence as Postgres' bigserial. `hold()` makes the next insert
 * wait until the test releases it, so writes can complete out of id order (as concurrent commits do).
 */
class MemoryEventStore implements EventStore {
  readonly rows: (StoredEvent & { username: string })[] = [];
  #seq = 0;
  #holds: Promise<void>[] = [];
  afterCalls = 0;

  hold(): () => void {
    let release!: () => void;
    this.#holds.push(new Promise<void>((r) => (release = r)));
    return release;
  }

  async insert(username: string, name: EventName, payload: Payload): Promise<StoredEvent> {
    const id = String(++this.#seq); // drawn at once, like nextval() inside the statement
    const held = this.#holds.shift();
    if (held) await held;
    const row = { id, name, payload, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, Number(id))), username };
    this.rows.push(row);
    return { id, name, payload, createdAt: row.createdAt };
  }

  async after(username: string, afterId: string, limit: number): Promise<StoredEvent[]> {
    this.afterCalls++;
    return this.rows
      .filter((r) => r.username === username && BigInt(r.id) > BigInt(afterId))
      .sort((a, b) => Number(a.id) - Number(b.id))
      .slice(0, limit)
      .map(({ id, name, payload, createdAt }) => ({ id, name, payload, createdAt }));
  }

  async latestId(username: string): Promise<string> {
    const mine = this.rows.filter((r) => r.username === username).map((r) => Number(r.id));
    return String(mine.length ? Math.max(...mine) : 0);
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const ids = (events: DeliveredEvent[]): (string | undefined)[] => events.map((e) => e.id);

describe('EventHub (in-memory event store)', () => {
  let store: MemoryEventStore;
  let hub: EventHub;
  beforeEach(() => {
    store = new MemoryEventStore();
    hub = new EventHub({ store, log: pino({ level: 'silent' }) });
  });

  it('stores a durable event first and fans it out to every stream of that user only', async () => {
    const tab1: DeliveredEvent[] = [];
    const tab2: DeliveredEvent[] = [];
    const other: DeliveredEvent[] = [];
    hub.subscribe('alice', (e) => tab1.push(e));
    hub.subscribe('alice', (e) => tab2.push(e));
    hub.subscribe('bob', (e) => other.push(e));
    const e = await hub.publish('alice', 'chatapi.chat', { body: 'hi' }, { durable: true });
    assert.equal(e.id, '1');
    assert.equal(store.rows.length, 1);
    assert.deepEqual(e.payload, { body: 'hi', id: '1', timestamp: '2026-01-01T00:00:01.000Z' });
    assert.deepEqual(tab1, [e]);
    assert.deepEqual(tab2, [e]);
    assert.deepEqual(other, []);
  });

  it('delivers an ephemeral event live only: no id, nothing stored', async () => {
    const got: DeliveredEvent[] = [];
    hub.subscribe('alice', (e) => got.push(e));
    await hub.publish('alice', 'chatapi.presence', { type: 'available' }, { durable: false });
    assert.deepEqual(got, [{ name: 'chatapi.presence', payload: { type: 'available' } }]);
    assert.equal(store.rows.length, 0);
  });

  it('keeps a user’s durable events in id order when the writes complete out of order', async () => {
    const got: DeliveredEvent[] = [];
    hub.subscribe('alice', (e) => got.push(e));
    const release = store.hold(); // the first write (id 1) is slow to commit
    const first = hub.publish('alice', 'chatapi.chat', { n: 1 }, { durable: true });
    const second = hub.publish('alice', 'chatapi.chat', { n: 2 }, { durable: true });
    await turn();
    await turn();
    assert.deepEqual(ids(got), []); // id 2 is stored but waits for id 1
    release();
    await Promise.all([first, second]);
    assert.deepEqual(ids(got), ['1', '2']);
  });

  it('keeps the stored timestamp a feature gave (an archived message keeps when it was sent)', async () => {
    const e = await hub.publish(
      'alice',
      'chatapi.chat',
      { timestamp: '2020-05-01T10:00:00.000Z' },
      { durable: true },
    );
    assert.equal(e.payload.timestamp, '2020-05-01T10:00:00.000Z');
  });

  it('hands what it delivers to the cluster hook; events from other instances reach local streams only', async () => {
    const local: DeliveredEvent[] = [];
    const toOthers: [string, DeliveredEvent][] = [];
    hub.subscribe('alice', (e) => local.push(e));
    hub.onPublished((user, e) => toOthers.push([user, e]));
    const mine = await hub.publish('alice', 'chatapi.chat', { body: 'x' }, { durable: true });
    const remote: DeliveredEvent = { id: '99', name: 'chatapi.chat', payload: { id: '99' } };
    hub.deliverLocal('alice', remote);
    assert.deepEqual(local, [mine, remote]);
    assert.deepEqual(toOthers, [['alice', mine]]); // never echoed back to the bus
  });

  it('a failing stream or hook does not keep the event from the others', async () => {
    const got: DeliveredEvent[] = [];
    hub.subscribe('alice', () => {
      throw new Error('broken pipe');
    });
    hub.subscribe('alice', (e) => got.push(e));
    hub.onPublished(() => {
      throw new Error('redis down');
    });
    await hub.publish('alice', 'chatapi.chat', {}, { durable: true });
    assert.equal(got.length, 1);
  });

  it('unsubscribing removes only that stream; the user’s entry goes with the last one', async () => {
    const got: DeliveredEvent[] = [];
    const stop1 = hub.subscribe('alice', () => undefined);
    const stop2 = hub.subscribe('alice', (e) => got.push(e));
    assert.equal(hub.listenerCount('alice'), 2);
    stop1();
    await hub.publish('alice', 'chatapi.chat', {}, { durable: false });
    assert.equal(got.length, 1);
    stop2();
    assert.equal(hub.listenerCount('alice'), 0);
  });

  it('replays the events after an id in pages, oldest first, with their envelope', async () => {
    for (let i = 0; i < 5; i++) await hub.publish('alice', 'chatapi.chat', { n: i }, { durable: true });
    await hub.publish('bob', 'chatapi.chat', {}, { durable: true });
    const pages: DeliveredEvent[][] = [];
    for await (const page of hub.replay('alice', '1', 2)) pages.push(page);
    assert.deepEqual(pages.map(ids), [
      ['2', '3'],
      ['4', '5'],
    ]);
    assert.equal(store.afterCalls, 3); // a full page asks once more; the empty answer ends the replay
    assert.equal(pages[0]![0]!.payload.id, '2');
    assert.equal(await hub.latestId('alice'), '5');
    assert.equal(await hub.latestId('carol'), '0');
  });

  it('paces replay pages only while more than a handful of replays run at once', async () => {
    let turns = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const paced = new EventHub({
      store,
      log: pino({ level: 'silent' }),
      pacer: {
        turn: async () => {
          turns++;
          await gate;
        },
      },
    });
    for (let i = 0; i < 4; i++) await paced.publish('alice', 'chatapi.chat', { n: i }, { durable: true });
    const drain = async () => {
      let n = 0;
      for await (const page of paced.replay('alice', '0', 2)) n += page.length;
      return n;
    };
    assert.equal(await drain(), 4);
    assert.equal(turns, 0, 'a lone replay (a login, a reconnect) is never held back');
    // A storm: twelve replays in flight at once wait their turns, and still all finish.
    const storm = Array.from({ length: 12 }, drain);
    await turn();
    assert.ok(turns > 0, 'the storm is paced');
    open();
    assert.deepEqual(await Promise.all(storm), Array(12).fill(4), 'and every replay still finishes');
  });

  it('replay waits for a write begun before it, so the replay→live seam loses nothing', async () => {
    await hub.publish('alice', 'chatapi.chat', { n: 1 }, { durable: true });
    const live: DeliveredEvent[] = [];
    hub.subscribe('alice', (e) => live.push(e));
    const release = store.hold();
    const pending = hub.publish('alice', 'chatapi.chat', { n: 2 }, { durable: true });
    const replayed: DeliveredEvent[] = [];
    const replay = (async () => {
      for await (const page of hub.replay('alice', '0')) replayed.push(...page);
    })();
    await turn();
    await turn();
    assert.deepEqual(ids(replayed), []); // the page is held until the earlier write is delivered
    release();
    await Promise.all([pending, replay]);
    assert.deepEqual(ids(live), ['2']);
    assert.deepEqual(ids(replayed), ['1']); // the stream merges id 2 from its live buffer
  });

  it('sends every registered snapshot on connect and skips a provider that fails', () => {
    hub.addSnapshot((user) => [{ name: 'chatapi.presence', payload: { user } }]);
    hub.addSnapshot(() => {
      throw new Error('not ready');
    });
    assert.deepEqual(hub.snapshot('alice'), [{ name: 'chatapi.presence', payload: { user: 'alice' } }]);
  });

  it('closes every tracked stream on shutdown, even when one close throws', () => {
    const closed: string[] = [];
    hub.trackStream(() => closed.push('a'));
    hub.trackStream(() => {
      throw new Error('already gone');
    });
    const untrack = hub.trackStream(() => closed.push('c'));
    untrack();
    assert.equal(hub.openStreams, 2);
    hub.closeStreams();
    assert.deepEqual(closed, ['a']);
    assert.equal(hub.openStreams, 0);
  });
});
