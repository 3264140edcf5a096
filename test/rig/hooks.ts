import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/store/migrate.js';
import { createEjabberdDatabase, startEjabberd } from '../../tools/servers/ejabberd.js';
import { startPostgres, type RunningPostgres } from '../../tools/servers/postgres.js';
import { startProsody } from '../../tools/servers/prosody.js';
import { startRedis, type RunningRedis } from '../../tools/servers/redis.js';
import type { RunningXmppServer, XmppServerKind } from '../../tools/servers/xmppServer.js';
import { needsReport } from './needs.js';
import { getRig, setRig } from './rig.js';
import { serverKind } from './serverKind.js';
import { trustCertificate } from '../../tools/servers/trustCertificate.js';

/**
 * Mocha root-level global fixtures: one XMPP server (Prosody, or ejabberd with PARLEY_TEST_SERVER=ejabberd),
 * PostgreSQL and Redis for the whole run. Test files get isolation from unique XMPP users (users.ts) and a
 * database cloned from `parley_template` (db.ts), which is migrated once here so each clone costs milliseconds.
 */

const TEMPLATE_DB = 'parley_template';
const EJABBERD_DB = 'ejabberd';
const secret = (): string => randomBytes(12).toString('hex');
let untrust: (() => void) | undefined;

/**
 * The rig's XMPP server. ejabberd is set up as production sites run it (ejabberdConfig.ts): its archives
 * live in a database of its own on the rig's PostgreSQL, so it starts once that is up, and c2s offers
 * STARTTLS with a throw-away certificate that this process is told to trust.
 */
async function startXmpp(
  kind: XmppServerKind,
  dir: string,
  postgres: Promise<RunningPostgres>,
): Promise<RunningXmppServer> {
  // Parley's login tokens (gateways given XMPP_LOGIN_TOKEN_SECRET use them): Prosody checks them with
  // mod_auth_parley, ejabberd with its JWT authentication; every other login goes to the store as before.
  const loginTokenSecret = randomBytes(32).toString('hex');
  if (kind === 'prosody') {
    return startProsody({
      dir,
      componentSecret: secret(),
      adminPassword: secret(),
      scramIterations: 4096,
      hibernationSeconds: 5,
      loginTokenSecret,
    });
  }
  const pgServer = await postgres;
  await createEjabberdDatabase(pgServer.url, EJABBERD_DB);
  const server = await startEjabberd({
    dir,
    componentSecret: secret(),
    adminPassword: secret(),
    mam: 'sql',
    sql: { host: pgServer.host, port: pgServer.port, database: EJABBERD_DB, username: 'postgres' },
    tls: true,
    resumeSeconds: 5,
    loginTokenSecret,
  });
  if (server.caFile) untrust = trustCertificate(server.caFile);
  return server;
}

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

  const kind = serverKind();
  const pgStart = startPostgres({ dir: join(tmp, 'pg') });
  const started = await Promise.allSettled([
    startXmpp(kind, join(tmp, kind), pgStart),
    pgStart,
    startRedis({ dir: join(tmp, 'redis') }),
  ]);
  const [xmpp, db, kv] = started;
  if (xmpp.status !== 'fulfilled' || db.status !== 'fulfilled' || kv.status !== 'fulfilled') {
    await Promise.allSettled(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    await rm(tmp, { recursive: true, force: true });
    const reasons = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
    throw new Error(`test rig failed to start:\n${reasons.join('\n')}`);
  }
  const postgres: RunningPostgres = db.value;
  const redis: RunningRedis = kv.value;
  setRig({ xmpp: xmpp.value, postgres, redis, tmp, templateDb: TEMPLATE_DB });
  const tServers = performance.now();

  try {
    await createTemplate(postgres);
  } catch (err) {
    await mochaGlobalTeardown();
    throw err;
  }
  if (process.env.PARLEY_RIG_TIMING === '1') {
    const ms = (n: number): string => `${Math.round(n)} ms`;
    console.log(
      `test rig (${kind}): servers ${ms(tServers - t0)}, template db ${ms(performance.now() - tServers)}`,
    );
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
  console.log(needsReport(r.xmpp.kind));
  await Promise.allSettled([r.xmpp.stop(), r.redis.stop()]);
  await r.postgres.stop(); // after ejabberd, whose archives it holds
  untrust?.();
  untrust = undefined;
  if (process.env.PARLEY_KEEP_TEST_DIR === '1') {
    console.log(`test rig: kept ${r.tmp}`);
  } else {
    await rm(r.tmp, { recursive: true, force: true });
  }
}
