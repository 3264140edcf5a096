import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/store/migrate.js';
import { startPostgres, type RunningPostgres } from '../../tools/servers/postgres.js';
import { startProsody, type RunningProsody } from '../../tools/servers/prosody.js';
import { startRedis, type RunningRedis } from '../../tools/servers/redis.js';
import { getRig, setRig } from './rig.js';

/**
 * Mocha root-level global fixtures: one Prosody, PostgreSQL and Redis for the whole run.
 * Test files get isolation from unique XMPP users (users.ts) and a database cloned from
 * `parley_template` (db.ts), which is migrated once here so each clone costs milliseconds.
 */

const TEMPLATE_DB = 'parley_template';
const secret = (): string => randomBytes(12).toString('hex');

async function createTemplate(postgres: RunningPostgres): Promise<void> {
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  // Closed before any test runs: CREATE DATABASE ... TEMPLATE fails while the template has sessions.
  const pool = new pg.Pool({ connectionString: postgres.adminUrl(TEMPLATE_DB), max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
}

export async function mochaGlobalSetup(): Promise<void> {
  const t0 = performance.now();
  const tmp = await mkdtemp(join(tmpdir(), 'parley-test-'));
  // Postgres runs as the `postgres` user when we are root and must be able to traverse into tmp.
  await chmod(tmp, 0o711);

  const started = await Promise.allSettled([
    startProsody({
      dir: join(tmp, 'prosody'),
      componentSecret: secret(),
      adminPassword: secret(),
      scramIterations: 4096,
      hibernationSeconds: 5,
      // mod_auth_parley: Parley's login tokens (gateways given XMPP_LOGIN_TOKEN_SECRET use them); every
      // other login goes to internal_hashed exactly as before.
      loginTokenSecret: randomBytes(32).toString('hex'),
    }),
    startPostgres({ dir: join(tmp, 'pg') }),
    startRedis({ dir: join(tmp, 'redis') }),
  ]);
  const [xmpp, db, kv] = started;
  if (xmpp.status !== 'fulfilled' || db.status !== 'fulfilled' || kv.status !== 'fulfilled') {
    await Promise.allSettled(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    await rm(tmp, { recursive: true, force: true });
    const reasons = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
    throw new Error(`test rig failed to start:\n${reasons.join('\n')}`);
  }
  const prosody: RunningProsody = xmpp.value;
  const postgres: RunningPostgres = db.value;
  const redis: RunningRedis = kv.value;
  setRig({ prosody, postgres, redis, tmp, templateDb: TEMPLATE_DB });
  const tServers = performance.now();

  try {
    await createTemplate(postgres);
  } catch (err) {
    await mochaGlobalTeardown();
    throw err;
  }
  if (process.env.PARLEY_RIG_TIMING === '1') {
    const ms = (n: number): string => `${Math.round(n)} ms`;
    console.log(`test rig: servers ${ms(tServers - t0)}, template db ${ms(performance.now() - tServers)}`);
  }
}

export async function mochaGlobalTeardown(): Promise<void> {
  let r;
  try {
    r = getRig();
  } catch {
    return;
  } // setup failed before the rig existed
  setRig(undefined);
  await Promise.allSettled([r.prosody.stop(), r.postgres.stop(), r.redis.stop()]);
  if (process.env.PARLEY_KEEP_TEST_DIR === '1') {
    console.log(`test rig: kept ${r.tmp}`);
  } else {
    await rm(r.tmp, { recursive: true, force: true });
  }
}
