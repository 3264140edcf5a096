import { withTransaction, type Pool } from '../store/db.js';
import type { EventStore, StoredEvent } from '../messages/EventStore.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { PresenceEvent } from './presence.js';

export interface SubscriptionRequest {
  jid: string;
  nick: string | null;
  status: string | null;
  eventId: string | null;
  receivedAt: string;
}

/** Pending inbound subscription requests (table subscription_requests, migration 0004). */
export interface SubscriptionRequestStore {
  /** Stores the request and its durable event in one transaction; undefined when it was already pending. */
  add(username: string, event: PresenceEvent): Promise<StoredEvent | undefined>;
  remove(username: string, jid: string): Promise<boolean>;
  list(username: string): Promise<SubscriptionRequest[]>;
}

interface Row {
  jid: string;
  nick: string | null;
  status: string | null;
  event_id: string | null;
  created_at: Date;
}

export function createPgSubscriptionRequestStore(pool: Pool, events: EventStore): SubscriptionRequestStore {
  return {
    async add(username, event) {
      return withTransaction(pool, async (tx) => {
        const { rowCount } = await tx.query(
          'INSERT INTO subscription_requests (username, jid, nick, status) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
          [username, event.from, event.nick ?? null, event.status],
        );
        if (!rowCount) return undefined; // already pending: one request, one event
        const stored = await events.insert(username, EVENT_NAMES.presence, event, tx);
        await tx.query('UPDATE subscription_requests SET event_id = $3 WHERE username = $1 AND jid = $2', [
          username,
          event.from,
          stored.id,
        ]);
        return stored;
      });
    },
    async remove(username, jid) {
      const { rowCount } = await pool.query(
        'DELETE FROM subscription_requests WHERE username = $1 AND jid = $2',
        [username, jid],
      );
      return (rowCount ?? 0) > 0;
    },
    async list(username) {
      const { rows } = await pool.query<Row>(
        'SELECT jid, nick, status, event_id, created_at FROM subscription_requests WHERE username = $1 ORDER BY created_at, jid',
        [username],
      );
      return rows.map((r) => ({
        jid: r.jid,
        nick: r.nick,
        status: r.status,
        eventId: r.event_id === null ? null : String(r.event_id),
        receivedAt: r.created_at.toISOString(),
      }));
    },
  };
}
