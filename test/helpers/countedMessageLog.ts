import pg from 'pg';
import { createPgEventStore } from '../../src/messages/EventStore.js';
import { createPgMessageLog } from '../../src/messages/createPgMessageLog.js';
import type { MessageLog } from '../../src/messages/MessageLog.js';
import { DeliveryOrder } from '../../src/sse/DeliveryOrder.js';
import type { DeliveredEvent } from '../../src/sse/events.js';
import { TimedDb } from '../../src/store/TimedDb.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';

/** A message log on a fresh database of the rig's PostgreSQL, with what it sends and delivers recorded. */
export interface CountedLog {
  pool: pg.Pool;
  log: MessageLog;
  /** statements sent, by name (store/TimedDb.ts), since the last reset */
  counts: Map<string, number>;
  /** event ids each user's streams were handed, in hand-over order, since the last reset */
  streams: Map<string, string[]>;
  /** a new log (its own group commits and order) with empty records */
  reset(): void;
  close(): Promise<void>;
}

/** A log with its records; `reset()` for a new one, `close()` drops the database (or countedMessageLogHooks). */
export async function countedMessageLog(): Promise<CountedLog> {
  const url = await freshDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const c: CountedLog = {
    pool,
    log: undefined as unknown as MessageLog,
    counts: new Map(),
    streams: new Map(),
    reset() {
      c.counts = new Map();
      c.streams = new Map();
      const db = new TimedDb(pool, {
        statement: (name) => c.counts.set(name, (c.counts.get(name) ?? 0) + 1),
      });
      // The hub's ordering, as production wires it: what a user's streams get, in hand-over order.
      const order = new DeliveryOrder((username, e: DeliveredEvent) => {
        c.streams.set(username, [...(c.streams.get(username) ?? []), e.id!]);
      });
      const sink = { ordered: order.write.bind(order), deliver: order.deliver.bind(order) };
      c.log = createPgMessageLog({ db, events: createPgEventStore(db), sink });
    },
    async close() {
      await pool.end();
      await dropDatabase(url);
    },
  };
  c.reset();
  return c;
}

/**
 * The mocha hooks around a suite using it: a fresh database for the suite, a new log (empty records)
 * before each test. Read `current` inside tests and later hooks.
 */
export function countedMessageLogHooks(): { readonly current: CountedLog } {
  const holder = { current: undefined as CountedLog | undefined };
  before(async () => {
    holder.current = await countedMessageLog();
  });
  after(async () => {
    await holder.current?.close();
  });
  beforeEach(() => holder.current!.reset());
  return {
    get current() {
      return holder.current!;
    },
  };
}
