import pg from 'pg';
import { meter, type Ctx } from '../lib/context.js';
import { progress } from '../lib/progress.js';
import type { Summary } from '../lib/stats.js';
import { chatHistoryStatement } from '../../src/messages/historyReads.js';
import type { ChatHistoryQuery } from '../../src/messages/types.js';

/**
 * History pages at scale: N messages of one owner are bulk-inserted with SQL (rows and their events,
 * as the message log (src/messages/) writes them), then the HTTP history API is timed for the query shapes a client uses:
 * the newest page, a cursor page further back, keywords (rare and common words), a contact's page.
 * Then the same queries again with the index the plans ask for (a what-if on the bench's own
 * database, dropped afterwards), so the proposed migration comes with its measured effect.
 */

const OWNER = 'histowner';
const WORDS = [
  'lunch',
  'meeting',
  'report',
  'deploy',
  'invoice',
  'holiday',
  'coffee',
  'bug',
  'review',
  'release',
];
const RARE = 'zanzibar'; // in 1 of 1,000 messages
const COMMON = 'coffee'; // in 1 of 10 messages

/**
 * The indexes this bench proposed (pages of one owner's, and one contact's, messages in event-id order);
 * src/store/migrations/0011_history_indexes.sql now ships them, so on a current schema there is no what-if.
 */
export const PROPOSED_INDEXES = [
  'CREATE INDEX messages_by_owner_event ON messages (owner, event_id) WHERE event_id IS NOT NULL',
  'CREATE INDEX messages_by_owner_peer_event ON messages (owner, peer, event_id) WHERE event_id IS NOT NULL',
];

async function bulkInsert(db: pg.Pool, rows: number): Promise<number> {
  const chunk = 50_000;
  const t0 = performance.now();
  for (let done = 0; done < rows; done += chunk) {
    const n = Math.min(chunk, rows - done);
    // Rows oldest first, one second apart; bodies vary by event id (10 topic words, a rare word).
    await db.query(
      `WITH ev AS (
        INSERT INTO events (username, name, payload, created_at)
        SELECT $1, 'chatapi.chat', jsonb_build_object('type', 'chat', 'bulk', true), now() - make_interval(secs => ($2::int - g))
          FROM generate_series($3::int + 1, $3::int + $4::int) g
        RETURNING id, created_at)
      INSERT INTO messages (owner, kind, direction, peer, from_jid, to_jid, body, message_id, event_id, sent_at)
      SELECT $1, 'chat', CASE WHEN id % 2 = 0 THEN 'in' ELSE 'out' END, 'peer' || (id % 10) || '@localhost',
             'peer' || (id % 10) || '@localhost/x', $1 || '@localhost',
             'message ' || id || ' about the ' || ($5::text[])[1 + (id % 10)::int] || CASE WHEN id % 1000 = 7 THEN ' ${RARE}' ELSE '' END
               || ' lorem ipsum dolor sit amet consectetur adipiscing',
             'bulk-' || id, id, created_at
        FROM ev`,
      [OWNER, rows, done, n, WORDS],
    );
    progress(
      `inserted ${(done + n).toLocaleString('en')} / ${rows.toLocaleString('en')} rows (${Math.round((performance.now() - t0) / 1000)} s)`,
    );
  }
  await db.query('ANALYZE messages');
  await db.query('ANALYZE events');
  return Math.round(performance.now() - t0);
}

type Shape = 'cursor' | 'contact' | 'keywordCommon' | 'keywordRare' | 'newest';

/** A page of 50 of each shape, as the HTTP queries ask for it. */
function queryFor(shape: Shape, before: string): ChatHistoryQuery {
  const q: ChatHistoryQuery = { owner: OWNER, limit: 50 };
  if (shape === 'contact') q.peer = 'peer3@localhost';
  if (shape === 'contact' || shape === 'cursor') q.before = before;
  if (shape === 'keywordCommon') q.keywords = COMMON;
  if (shape === 'keywordRare') q.keywords = RARE;
  return q;
}

/** The plans of the statements the pages run (the message log's own SQL, the event's attachments included). */
async function plans(db: pg.Pool, before: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const shape of ['newest', 'cursor', 'contact', 'keywordCommon', 'keywordRare'] as const) {
    const { statement, values } = chatHistoryStatement(queryFor(shape, before));
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS OFF, TIMING ON) ${statement.text}`,
      values,
    );
    out[shape] = rows
      .map((r) => r['QUERY PLAN'])
      .filter((l) => !/^\s*(Worker \d)/.test(l))
      .slice(0, 18);
  }
  return out;
}

type QueryResult = Record<
  string,
  { latency: Summary; messages: number; errors: number; firstError?: string }
>;

export async function historyScenario(ctx: Ctx): Promise<Record<string, unknown>> {
  const db = new pg.Pool({ connectionString: ctx.postgres.adminUrl('bench_prosody'), max: 2 });
  try {
    const rows = ctx.opts.historyRows;
    progress(`bulk-inserting ${rows.toLocaleString('en')} messages for ${OWNER}`);
    const insertMs = await bulkInsert(db, rows);
    const {
      rows: [range],
    } = await db.query<{ lo: string; hi: string }>(
      'SELECT min(event_id) AS lo, max(event_id) AS hi FROM messages WHERE owner = $1',
      [OWNER],
    );
    const lo = Number(range!.lo);
    const hi = Number(range!.hi);
    const n = ctx.opts.historyQueries;
    const rnd = (): number => Math.floor(lo + 1000 + Math.random() * (hi - lo - 1000));
    const base = `/restapi/v1/chat/${OWNER}/messages?limit=50`;
    const queries = [
      { name: 'newest page', paths: Array.from({ length: n }, () => base) },
      { name: 'cursor page (before=…)', paths: Array.from({ length: n }, () => `${base}&before=${rnd()}`) },
      {
        name: 'contact + cursor (to=…&before=…)',
        paths: Array.from(
          { length: n },
          () => `${base}&to=peer${Math.floor(Math.random() * 10)}@localhost&before=${rnd()}`,
        ),
      },
      {
        name: `keyword, rare word (1 in 1,000)`,
        paths: Array.from({ length: n }, () => `${base}&keywords=${RARE}`),
      },
      {
        name: `keyword, common word (1 in 10)`,
        paths: Array.from({ length: n }, () => `${base}&keywords=${COMMON}`),
      },
      {
        name: 'keyword + cursor',
        paths: Array.from({ length: n }, () => `${base}&keywords=${COMMON}&before=${rnd()}`),
      },
    ];
    const run = async (
      label: string,
    ): Promise<{ results: QueryResult; parleyCpuMsPerQuery: number; postgresCpuMsPerQuery: number }> => {
      progress(`${label}: ${queries.length} query shapes × ${n}`);
      const m = meter(ctx, 'prosody');
      m.begin();
      const results = await ctx.gen.call<QueryResult>(
        'history',
        { url: ctx.parley.url, secret: ctx.secret, queries },
        600_000,
      );
      const { cpuMs } = m.end();
      for (const [k, v] of Object.entries(results))
        progress(
          `  ${k}: p50 ${v.latency.p50} ms  p99 ${v.latency.p99} ms${v.errors ? `  errors ${v.errors}: ${v.firstError}` : ''}`,
        );
      const total = queries.length * n;
      return {
        results,
        parleyCpuMsPerQuery: Math.round(((cpuMs.parley ?? 0) / total) * 100) / 100,
        postgresCpuMsPerQuery: Math.round(((cpuMs.postgres ?? 0) / total) * 100) / 100,
      };
    };
    const asShipped = await run('as shipped');
    const mid = String(Math.floor((lo + hi) / 2));
    const plansShipped = await plans(db, mid);
    // The what-if creates only what the schema lacks (the indexes became migration 0011 after the first
    // runs of this bench) and drops only what it created.
    const { rows: existing } = await db.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'messages'`,
    );
    const missing = PROPOSED_INDEXES.filter((ddl) => !existing.some((e) => ddl.includes(` ${e.indexname} `)));
    if (!missing.length) {
      progress('the proposed indexes are already part of the schema: no what-if');
      return {
        rows,
        owner: OWNER,
        insertMs,
        queriesPerShape: n,
        asShipped,
        plansShipped,
        indexesShipped: true,
      };
    }
    progress(`what-if: ${missing.join('; ')}`);
    const t = performance.now();
    for (const ddl of missing) await db.query(ddl);
    await db.query('ANALYZE messages');
    const indexMs = Math.round(performance.now() - t);
    const withIndex = await run('with the proposed index');
    const plansIndexed = await plans(db, mid);
    for (const ddl of missing) await db.query(`DROP INDEX ${/INDEX (\w+)/.exec(ddl)![1]}`);
    return {
      rows,
      owner: OWNER,
      insertMs,
      queriesPerShape: n,
      asShipped,
      plansShipped,
      whatIf: { indexes: missing, buildMs: indexMs, ...withIndex, plans: plansIndexed },
    };
  } finally {
    await db.end();
  }
}
