import type pg from 'pg';
import { withTransaction } from '../store/db.js';

export interface PurgeResult {
  cutoff: Date;
  messages: number;
  events: number;
  dryRun: boolean;
}

/**
 * Deletes messages sent before now − `days` and the SSE events written with them, in batches of `batch`
 * rows, each batch one transaction (so a large purge never holds long locks, and an interrupted purge
 * keeps what it did). Other events (session state, receipts, presence requests) are not touched.
 * A client replaying from an id older than the purge simply gets what is left.
 */
export async function purgeHistory(
  pool: pg.Pool,
  opts: { days: number; batch?: number; dryRun?: boolean },
): Promise<PurgeResult> {
  const {
    rows: [at],
  } = await pool.query<{ cutoff: Date }>('SELECT now() - make_interval(days => $1::int) AS cutoff', [
    opts.days,
  ]);
  const cutoff = at!.cutoff;
  if (opts.dryRun) {
    const { rows } = await pool.query<{ messages: string; events: string }>(
      'SELECT count(*) AS messages, count(event_id) AS events FROM messages WHERE sent_at < $1',
      [cutoff],
    );
    return {
      cutoff,
      messages: Number(rows[0]?.messages ?? 0),
      events: Number(rows[0]?.events ?? 0),
      dryRun: true,
    };
  }
  const batch = opts.batch ?? 5000;
  let messages = 0;
  let events = 0;
  for (;;) {
    const done = await withTransaction(pool, async (tx) => {
      const deleted = await tx.query<{ event_id: string | null }>(
        `DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE sent_at < $1 ORDER BY id LIMIT $2) RETURNING event_id`,
        [cutoff, batch],
      );
      const ids = deleted.rows.flatMap((r) => (r.event_id === null ? [] : [r.event_id]));
      const gone = ids.length
        ? await tx.query('DELETE FROM events WHERE id = ANY ($1::bigint[])', [ids])
        : { rowCount: 0 };
      return { messages: deleted.rowCount ?? 0, events: gone.rowCount ?? 0 };
    });
    messages += done.messages;
    events += done.events;
    if (done.messages < batch) return { cutoff, messages, events, dryRun: false };
  }
}
