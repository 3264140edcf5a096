import { writeFileSync } from 'node:fs';
import pg from 'pg';

/**
 * Preload for a gateway process (`node --import tsx --import <this file> src/main.ts`, with
 * PARLEY_BENCH_PGCOUNT=<file>): counts every statement node-postgres sends, by its first words, and
 * rewrites <file> with the tally while it changes. Each call is one round trip: node-postgres does not
 * pipeline, a pooled client runs one query at a time.
 */

const file = process.env.PARLEY_BENCH_PGCOUNT;
if (file) {
  const tally: Record<string, number> = {};
  let dirty = false;
  const kind = (sql: string): string => {
    const s = sql.replace(/\s+/g, ' ').trim();
    const m =
      /^(WITH \w+ AS \(\s*\w+(?: \w+)?|INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+|SELECT .*? FROM \w+|\w+)/i.exec(
        s,
      );
    return (m?.[1] ?? s).slice(0, 60);
  };
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string; name?: string };
    const sql = typeof q === 'string' ? q : (q?.text ?? '');
    const k = typeof q === 'object' && q?.name ? `${kind(sql)} [${q.name}]` : kind(sql);
    tally[k] = (tally[k] ?? 0) + 1;
    dirty = true;
    return original.apply(this, args);
  };
  setInterval(() => {
    if (!dirty) return;
    dirty = false;
    writeFileSync(file, JSON.stringify(tally));
  }, 100).unref();
}
