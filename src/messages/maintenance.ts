import type { TimedDb } from '../store/TimedDb.js';
import type { MessageMaintenance } from './MessageLog.js';

export function createPgMaintenance(db: TimedDb): MessageMaintenance {
  return {
    async patchAttachments(urls, patch, drop = [], tx) {
      const args = [urls, JSON.stringify(patch), drop];
      const rewrite = (col: string) => `jsonb_set(${col}, '{attachments}', (
          SELECT jsonb_agg(CASE WHEN a->>'url' = ANY($1::text[]) THEN (a - $3::text[]) || $2::jsonb ELSE a END ORDER BY ord)
            FROM jsonb_array_elements(${col}->'attachments') WITH ORDINALITY AS t(a, ord)))`;
      const carries = (col: string) => `jsonb_typeof(${col}->'attachments') = 'array'
          AND EXISTS (SELECT 1 FROM jsonb_array_elements(${col}->'attachments') a WHERE a->>'url' = ANY($1::text[]))`;
      const events = await db.run(
        {
          name: 'event_patch_attachments',
          text: `UPDATE events SET payload = ${rewrite('payload')} WHERE ${carries('payload')}`,
        },
        args,
        tx,
      );
      await db.run(
        {
          name: 'message_patch_attachments',
          text: `UPDATE messages SET data = ${rewrite('data')} WHERE jsonb_typeof(data) = 'object' AND ${carries('data')}`,
        },
        args,
        tx,
      );
      return events.rowCount ?? 0;
    },

    /**
     * Batches of `batch` rows, each batch one transaction (so a large purge never holds long locks, and an
     * interrupted purge keeps what it did). Other events (session state, receipts, presence requests) are
     * not touched. A client replaying from an id older than the purge simply gets what is left.
     */
    async purge(opts) {
      const {
        rows: [at],
      } = await db.run<{ cutoff: Date }>(
        { name: 'purge_cutoff', text: 'SELECT now() - make_interval(days => $1::int) AS cutoff' },
        [opts.days],
      );
      const cutoff = at!.cutoff;
      if (opts.dryRun) {
        const { rows } = await db.run<{ messages: string; events: string }>(
          {
            name: 'purge_count',
            text: 'SELECT count(*) AS messages, count(event_id) AS events FROM messages WHERE sent_at < $1',
          },
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
        const done = await db.transaction(async (tx) => {
          const deleted = await db.run<{ event_id: string | null }>(
            {
              name: 'purge_messages',
              text: `DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE sent_at < $1 ORDER BY id LIMIT $2) RETURNING event_id`,
            },
            [cutoff, batch],
            tx,
          );
          const ids = deleted.rows.flatMap((r) => (r.event_id === null ? [] : [r.event_id]));
          const gone = ids.length
            ? await db.run(
                { name: 'purge_events', text: 'DELETE FROM events WHERE id = ANY ($1::bigint[])' },
                [ids],
                tx,
              )
            : { rowCount: 0 };
          return { messages: deleted.rowCount ?? 0, events: gone.rowCount ?? 0 };
        });
        messages += done.messages;
        events += done.events;
        if (done.messages < batch) return { cutoff, messages, events, dryRun: false };
      }
    },
  };
}
