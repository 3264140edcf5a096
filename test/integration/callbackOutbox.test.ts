import assert from 'node:assert/strict';
import pg from 'pg';
import {
  CallbackOutbox,
  listDeadCallbacks,
  outboxStats,
  replayDeadCallbacks,
} from '../../src/callbacks/CallbackOutbox.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';

/**
 * The callback outbox's read and admin queries (what /metrics, the admin API and `parley callbacks --db`
 * run) against the migrated schema in real PostgreSQL, with rows the feature itself wrote and failed.
 */
describe('CallbackOutbox store queries against real PostgreSQL', () => {
  let url: string;
  let pool: pg.Pool;
  let outbox: CallbackOutbox;
  before(async () => {
    url = await freshDatabase();
    pool = new pg.Pool({ connectionString: url, max: 2 });
    outbox = new CallbackOutbox({ db: pool, horizonSeconds: 3600, instanceId: 'test' });
  });
  after(async () => {
    await pool?.end();
    if (url) await dropDatabase(url);
  });

  const enqueue = (key: string, n: number) =>
    outbox.enqueue(pool, {
      orderingKey: key,
      url: `http://127.0.0.1:9/${n}`,
      scheme: 'rcp',
      salt: 'sendMessage',
      params: { n: String(n) },
      secretEnc: 'x',
      idempotencyKey: `${key}-${n}`,
    });

  it('counts pending and dead rows and the age of the oldest pending one', async () => {
    assert.deepEqual(await outboxStats(pool), { depth: 0, dead: 0, oldestAgeSeconds: 0 });
    for (let n = 1; n <= 4; n++) assert.equal(await enqueue('m1', n), true);
    assert.equal(await enqueue('m1', 1), false, 'the same idempotency key is queued once');
    await pool.query(
      `UPDATE callback_outbox SET created_at = now() - interval '90 seconds' WHERE url LIKE '%/1'`,
    );
    const [first] = await outbox.claim(10, 30);
    assert.equal(first?.url, 'http://127.0.0.1:9/1', 'one head per ordering key');
    await outbox.failed(first.id, { status: 502, error: 'bad gateway' }, { state: 'dead' });
    const [second] = await outbox.claim(10, 30);
    await outbox.delivered(second!.id, 200);
    const stats = await outboxStats(pool);
    assert.deepEqual([stats.depth, stats.dead], [2, 1]);
    // the 90-second-old row is dead now: only pending rows age the outbox
    assert.ok(stats.oldestAgeSeconds >= 0 && stats.oldestAgeSeconds < 60, `age ${stats.oldestAgeSeconds}`);
  });

  it('lists dead letters and replays them to pending, due now, attempts reset', async () => {
    const dead = await listDeadCallbacks(pool, { limit: 10 });
    assert.equal(dead.length, 1);
    assert.deepEqual(
      [dead[0]!.url, dead[0]!.attempts, dead[0]!.lastStatus, dead[0]!.lastError, dead[0]!.params],
      ['http://127.0.0.1:9/1', 1, 502, 'bad gateway', { n: '1' }],
    );
    assert.deepEqual(await listDeadCallbacks(pool, { limit: 10, orderingKey: 'other' }), []);
    assert.equal(await replayDeadCallbacks(pool, { id: '999999' }), 0);
    assert.equal(await replayDeadCallbacks(pool, { id: dead[0]!.id }), 1);
    const { rows } = await pool.query<{
      status: string;
      attempts: number;
      due: boolean;
      give_up_at: Date | null;
    }>(
      `SELECT status, attempts, next_attempt_at <= now() AS due, give_up_at FROM callback_outbox WHERE id = $1`,
      [dead[0]!.id],
    );
    assert.deepEqual(rows[0], { status: 'pending', attempts: 0, due: true, give_up_at: null });
    assert.deepEqual(await outboxStats(pool).then((s) => [s.depth, s.dead]), [3, 0]);
  });
});
