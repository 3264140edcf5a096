import type pg from 'pg';

/**
 * Rewrites the attachment entries with `url` in every stored copy of the messages that carry them: the
 * event payload (what history and replay show) and the data element's copy in `messages.data`. `patch` is
 * merged into each matching entry and `drop` names keys to remove (e.g. the thumbnail of a removed file).
 * Returns how many events changed.
 */
export async function patchAttachments(
  tx: pg.PoolClient,
  urls: readonly string[],
  patch: Record<string, unknown>,
  drop: string[] = [],
): Promise<number> {
  const args = [urls, JSON.stringify(patch), drop];
  const rewrite = (col: string) => `jsonb_set(${col}, '{attachments}', (
      SELECT jsonb_agg(CASE WHEN a->>'url' = ANY($1::text[]) THEN (a - $3::text[]) || $2::jsonb ELSE a END ORDER BY ord)
        FROM jsonb_array_elements(${col}->'attachments') WITH ORDINALITY AS t(a, ord)))`;
  const carries = (col: string) => `jsonb_typeof(${col}->'attachments') = 'array'
      AND EXISTS (SELECT 1 FROM jsonb_array_elements(${col}->'attachments') a WHERE a->>'url' = ANY($1::text[]))`;
  const events = await tx.query(
    `UPDATE events SET payload = ${rewrite('payload')} WHERE ${carries('payload')}`,
    args,
  );
  await tx.query(
    `UPDATE messages SET data = ${rewrite('data')} WHERE jsonb_typeof(data) = 'object' AND ${carries('data')}`,
    args,
  );
  return events.rowCount ?? 0;
}
