import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../../tools/servers/postgres.js';
import { migrate } from '../../src/store/migrate.js';
import { TimedDb } from '../../src/store/TimedDb.js';
import { insertBatch, type InsertItem } from '../../src/messages/groupInsert.js';

/**
 * What a statement and a row cost PostgreSQL (issue 17): the backend's CPU (utime + stime of its process)
 * per row of the message log's batch insert (`insertBatch`, as the group commit sends it) at batch sizes
 * 1 and 4, beside a prepared `SELECT 1`, on a fresh migrated database of the rig's configuration. Steps run
 * in the order given, on one connection; a step may change the schema or a setting first, so one run
 * compares variants:
 *
 *   node --import tsx bench/tools/statement-cost.ts select1 x1 x4 drop:messages_by_owner_event x4 \
 *     set:plan_cache_mode=force_custom_plan x4
 *
 * Steps: `select1`; `xN` (N rows a statement, 1,500 statements); `drop:INDEX`; `nofk` (messages.event_id's
 * foreign key); `set:NAME=VALUE` (a session setting). CPU is read from /proc in clock ticks (10 ms), so
 * each step runs long enough (≥ 1 s) for two digits.
 */

const steps = process.argv.slice(2);
if (!steps.length) {
  console.error('usage: statement-cost.ts STEP… (select1, x1, x4, drop:INDEX, nofk, set:NAME=VALUE)');
  process.exit(2);
}
const dir = await mkdtemp(join(tmpdir(), 'parley-statement-cost-'));
await chmod(dir, 0o711); // PostgreSQL runs as its own account and must reach its folder
const server = await startPostgres({ dir: join(dir, 'pg') });
try {
  const admin = new pg.Client({ connectionString: server.adminUrl('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE statement_cost');
  await admin.end();
  const pool = new pg.Pool({ connectionString: server.adminUrl('statement_cost'), max: 1 });
  await migrate(pool);
  const db = new TimedDb(pool);
  const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const tick = 1e6 / 100; // µs per clock tick (USER_HZ)
  const backendUs = async () => {
    const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * tick;
  };
  let n = 0;
  const row = (): InsertItem => {
    const owner = `user${n % 40}@localhost`;
    const peer = `user${(n + 1) % 40}@localhost`;
    const messageId = `m-${n}`;
    const body = `hello there, this is message number ${n++} of the statement-cost run`;
    const direction = n % 2 ? 'in' : 'out';
    return {
      m: { owner, kind: 'chat', direction, peer, fromJid: `${owner}/r`, toJid: peer, body, messageId },
      event: {
        name: 'chatapi.chat',
        payload: { type: 'chat', from: `${owner}/r`, to: peer, body, id: messageId } as never,
      },
    };
  };
  const measure = async (label: string, count: number, run: () => Promise<unknown>, per = 1) => {
    const cpu0 = await backendUs();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await run();
    const cpu = (await backendUs()) - cpu0;
    const wall = (performance.now() - t0) * 1000;
    const each = count * per;
    console.log(
      `${label.padEnd(28)} ${String(Math.round(cpu / each)).padStart(5)} µs backend CPU, ` +
        `${String(Math.round(wall / each)).padStart(5)} µs wall per ${per === 1 ? 'statement' : 'row'}`,
    );
  };
  await measure('(warm-up, 4 rows)', 500, () => insertBatch(db, [row(), row(), row(), row()]), 4);
  for (const step of steps) {
    if (step === 'select1')
      await measure('SELECT 1 (prepared)', 3000, () =>
        db.run({ name: 'select1', text: 'SELECT 1 AS one', prepared: true }),
      );
    else if (/^x\d+$/.test(step)) {
      const size = Number(step.slice(1));
      await measure(
        `batch insert, ${size} a statement`,
        1500,
        () => insertBatch(db, Array.from({ length: size }, row)),
        size,
      );
    } else if (step.startsWith('drop:')) {
      await pool.query(`DROP INDEX ${pg.escapeIdentifier(step.slice(5))}`);
      console.log(`dropped index ${step.slice(5)}`);
    } else if (step === 'nofk') {
      await pool.query('ALTER TABLE messages DROP CONSTRAINT messages_event_id_fkey');
      console.log('dropped messages.event_id → events');
    } else if (step.startsWith('set:')) {
      const [name, value] = step.slice(4).split('=');
      await pool.query(`SELECT set_config($1, $2, false)`, [name, value]);
      console.log(`set ${name} = ${value}`);
    } else throw new Error(`unknown step ${step}`);
  }
  await pool.end();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
