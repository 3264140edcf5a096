import assert from 'node:assert/strict';
import pg from 'pg';
import { dropDatabase, freshDatabase } from '../rig/db.js';

/**
 * Migration 0024: ANALYZE keeps no statistics for the columns no query filters on (it sorted them on every
 * autovacuum pass of the two busiest tables), and still keeps those the planner reads.
 */
describe('column statistics of events and messages', () => {
  let url: string;
  let pool: pg.Pool;
  before(async () => {
    url = await freshDatabase();
    pool = new pg.Pool({ connectionString: url, max: 1 });
  });
  after(async () => {
    await pool.end();
    await dropDatabase(url);
  });

  it('are kept for the filtered columns only', async () => {
    await pool.query(
      `INSERT INTO events (username, name, payload)
       SELECT 'u' || (i % 7), 'chatapi.chat', jsonb_build_object('body', 'hello ' || i) FROM generate_series(1, 200) i`,
    );
    await pool.query(
      `INSERT INTO messages (owner, kind, direction, peer, from_jid, to_jid, body, subject, data, message_id, event_id)
       SELECT 'u' || (i % 7), 'chat', 'out', 'p@x.test', 'u@x.test/r', 'p@x.test', 'hello ' || i, 's', '{"a":1}', 'm' || i, i
       FROM generate_series(1, 200) i`,
    );
    await pool.query('ANALYZE events');
    await pool.query('ANALYZE messages');
    const { rows } = await pool.query<{ tablename: string; attname: string }>(
      `SELECT tablename, attname FROM pg_stats WHERE schemaname = 'public' AND tablename IN ('events', 'messages')`,
    );
    const kept = new Set(rows.map((r) => `${r.tablename}.${r.attname}`));
    for (const c of ['events.username', 'events.id', 'messages.owner', 'messages.peer', 'messages.search'])
      assert.ok(kept.has(c), `${c} has statistics`);
    for (const c of [
      'events.payload',
      'messages.body',
      'messages.subject',
      'messages.data',
      'messages.from_jid',
    ])
      assert.ok(!kept.has(c), `${c} has no statistics`);
  });
});
