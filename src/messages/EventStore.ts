import type { TimedDb } from '../store/TimedDb.js';
import type { Queryable } from '../store/db.js';
import type { EventName, Payload } from '../sse/events.js';

export interface StoredEvent {
  id: string;
  name: EventName;
  payload: Payload;
  createdAt: Date;
}

/** Durable events of one user, in id order. Ids are bigserial, handled as strings end to end. */
export interface EventStore {
  /** `tx` lets a feature insert its own rows and the event in one transaction. */
  insert(username: string, name: EventName, payload: Payload, tx?: Queryable): Promise<StoredEvent>;
  after(username: string, afterId: string, limit: number): Promise<StoredEvent[]>;
  /** the newest event id of the user, '0' when none */
  latestId(username: string): Promise<string>;
}

export interface EventRow {
  id: string;
  name: EventName;
  payload: Payload;
  created_at: Date;
}
export const toEvent = (r: EventRow): StoredEvent => ({
  id: String(r.id),
  name: r.name,
  payload: r.payload,
  createdAt: r.created_at,
});

// Prepared: every durable event and every replay page goes through these.
const INSERT = {
  name: 'event_insert',
  prepared: true,
  text: 'INSERT INTO events (username, name, payload) VALUES ($1, $2, $3) RETURNING id, name, payload, created_at',
};
const AFTER = {
  name: 'event_replay',
  prepared: true,
  text: 'SELECT id, name, payload, created_at FROM events WHERE username = $1 AND id > $2 ORDER BY id LIMIT $3',
};
const LATEST = { name: 'event_latest', text: 'SELECT max(id) AS id FROM events WHERE username = $1' };

export function createPgEventStore(db: TimedDb): EventStore {
  return {
    async insert(username, name, payload, tx) {
      const { rows } = await db.run<EventRow>(INSERT, [username, name, payload], tx);
      return toEvent(rows[0]!);
    },
    async after(username, afterId, limit) {
      const { rows } = await db.run<EventRow>(AFTER, [username, afterId, limit]);
      return rows.map(toEvent);
    },
    async latestId(username) {
      const { rows } = await db.run<{ id: string | null }>(LATEST, [username]);
      return String(rows[0]?.id ?? '0');
    },
  };
}
