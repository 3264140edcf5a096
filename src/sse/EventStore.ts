import type { Queryable } from '../store/db.js';
import type { EventName, Payload } from './events.js';

export interface StoredEvent {
  id: string;
  name: EventName;
  payload: Payload;
  createdAt: Date;
}

/** Durable events of one user, in id order. Ids are bigserial, handled as strings end to end. */
export interface EventStore {
  /** `db` lets a feature insert its own rows and the event in one transaction. */
  insert(username: string, name: EventName, payload: Payload, db?: Queryable): Promise<StoredEvent>;
  after(username: string, afterId: string, limit: number): Promise<StoredEvent[]>;
  /** the newest event id of the user, '0' when none */
  latestId(username: string): Promise<string>;
}

interface Row {
  id: string;
  name: EventName;
  payload: Payload;
  created_at: Date;
}
const toEvent = (r: Row): StoredEvent => ({
  id: String(r.id),
  name: r.name,
  payload: r.payload,
  createdAt: r.created_at,
});

export function createPgEventStore(db: Queryable): EventStore {
  return {
    async insert(username, name, payload, tx = db) {
      // Named: prepared once per connection, no parse/plan per event.
      const { rows } = await tx.query<Row>({
        name: 'parley-event-insert',
        text: 'INSERT INTO events (username, name, payload) VALUES ($1, $2, $3) RETURNING id, name, payload, created_at',
        values: [username, name, payload],
      });
      return toEvent(rows[0]!);
    },
    async after(username, afterId, limit) {
      const { rows } = await db.query<Row>({
        name: 'parley-events-after',
        text: 'SELECT id, name, payload, created_at FROM events WHERE username = $1 AND id > $2 ORDER BY id LIMIT $3',
        values: [username, afterId, limit],
      });
      return rows.map(toEvent);
    },
    async latestId(username) {
      const { rows } = await db.query<{ id: string | null }>(
        'SELECT max(id) AS id FROM events WHERE username = $1',
        [username],
      );
      return String(rows[0]?.id ?? '0');
    },
  };
}
