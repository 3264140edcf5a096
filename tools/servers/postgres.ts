import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { freePort } from './freePort.js';
import { run, spawnManaged, tail, waitReady } from './child.js';

/**
 * A throw-away PostgreSQL cluster (Debian's postgresql-15 server binaries, no system service):
 * trust auth on loopback, durability switched off because the data is disposable.
 */

export interface RunningPostgres {
  url: string;
  host: string;
  port: number;
  dir: string;
  adminUrl(db: string): string;
  stop(): Promise<void>;
}

/** Newest /usr/lib/postgresql/<version>/bin, so a Debian upgrade needs no code change. */
export function postgresBinDir(root = '/usr/lib/postgresql'): string {
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'postgres')))
    : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server under ${root}; run scripts/ensure-system.sh`);
  return join(root, newest, 'bin');
}

interface Account {
  uid: number;
  gid: number;
}

// initdb and postgres refuse to run as root, so as root both run as Debian's `postgres` user.
async function serverAccount(): Promise<Account | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string): Promise<number> => Number((await run('id', [flag, 'postgres'])).trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

// The postgres user must be able to walk down to `dir`; a mkdtemp() parent is 0700 root, which
// makes initdb fail with a confusing "could not change directory" message. Say so up front.
async function assertReachable(dir: string, acct: Account): Promise<void> {
  for (let p = dirname(dir); ; p = dirname(p)) {
    const s = await stat(p);
    const ok =
      s.uid === acct.uid
        ? (s.mode & 0o100) !== 0
        : s.gid === acct.gid
          ? (s.mode & 0o010) !== 0
          : (s.mode & 0o001) !== 0;
    if (!ok) {
      throw new Error(
        `postgres (uid ${acct.uid}) cannot traverse ${p} (mode ${(s.mode & 0o777).toString(8)}) ` +
          `to reach ${dir}: chmod o+x it or pick a dir elsewhere`,
      );
    }
    if (p === dirname(p)) return;
  }
}

async function canQuery(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false; // refused while starting, or "the database system is starting up"
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * `statStatements`: load pg_stat_statements (the bench counts the statements a gateway sends per message
 * from what PostgreSQL itself executed); its extension is created in the `postgres` database.
 */
export async function startPostgres(opts: {
  dir: string;
  port?: number;
  statStatements?: boolean;
}): Promise<RunningPostgres> {
  const dir = resolve(opts.dir);
  const bin = postgresBinDir();
  const port = opts.port ?? (await freePort());
  const host = '127.0.0.1';
  const acct = await serverAccount();
  const as = acct ? { uid: acct.uid, gid: acct.gid } : {};

  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (acct) {
    await assertReachable(dir, acct);
    await chown(dir, acct.uid, acct.gid);
  }
  // An existing cluster (PG_VERSION present) is reused, so a dir can be restarted after stop().
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    await run(
      join(bin, 'initdb'),
      [
        '-D',
        dir,
        '-A',
        'trust',
        '-U',
        'postgres',
        '--no-sync',
        '--no-instructions',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
      ],
      { cwd: dir, ...as },
    );
  }

  const child = spawnManaged(
    join(bin, 'postgres'),
    [
      '-D',
      dir,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
      // Every test and bench scenario starts on a fresh database, and a table never analyzed gets the plans
      // of a table of two rows: node-postgres's prepared statements keep their generic plan, so the receipt
      // batch scanned all of messages for every batch as it grew (8-10 ms a batch after a minute at 400
      // msg/s, three times the PostgreSQL CPU per message). A deployment's tables are analyzed within a minute
      // of their first rows (autovacuum's naptime) and keep statistics; checking every second gets the rig there
      // within a second (docs/operations.md, "PostgreSQL statistics").
      '-c',
      'autovacuum_naptime=1',
      ...(opts.statStatements ? ['-c', 'shared_preload_libraries=pg_stat_statements'] : []),
    ],
    { cwd: dir, ...as },
  );

  const adminUrl = (db: string): string => `postgres://postgres@${host}:${port}/${encodeURIComponent(db)}`;
  const url = adminUrl('postgres');
  await waitReady(
    'postgres',
    child,
    () => canQuery(url),
    async () => `--- postgres output (tail) ---\n${tail(child.output())}`,
    { timeoutMs: 30_000, intervalMs: 20 },
  );
  if (opts.statStatements) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').finally(() => c.end());
  }

  return {
    url,
    host,
    port,
    dir,
    adminUrl,
    // SIGINT is "fast" shutdown: SIGTERM ("smart") would wait for every open pool to disconnect.
    stop: () => child.stop('SIGINT', 5000),
  };
}
