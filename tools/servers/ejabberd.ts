import { existsSync } from 'node:fs';
import pg from 'pg';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { streamAnswers } from './probe.js';
import { fillPorts } from './freePort.js';
import { run, spawnManaged, tail, waitReady, type ManagedChild } from './child.js';
import { renderEjabberdConfig, type EjabberdConfig, type EjabberdSql } from './ejabberdConfig.js';

/**
 * A throw-away ejabberd (Debian's 23.01) in a directory of its own, run in the foreground as our child,
 * for the test rig (PARLEY_TEST_SERVER=ejabberd), the demo and the benchmark. Config: ejabberdConfig.ts.
 * Facts behind the config (/work/shared/reference/prosody-recipe.md §6, verified here):
 * - as root, ejabberdctl su's to the `ejabberd` user; we run it as that user directly (spawn uid/gid),
 *   so the whole directory is chowned to it and every parent must be traversable;
 * - ERL_DIST_PORT fixes the Erlang distribution port, so no epmd daemon is started or left behind;
 * - ejabberdctl runs erl as a child of its shell, not exec'd: the server is stopped through its
 *   process group (SIGTERM → init:stop, ~1 s), never by name;
 * - the Debian default config throttles c2s to 3000 B/s (shaper `normal`) and bans IPs after failed
 *   logins (mod_fail2ban): neither is enabled here;
 * - mod_mam on mnesia crawled at 80–170 ms per message: archives are off unless asked for, and the test
 *   rig keeps them on PostgreSQL (`mam: 'sql'`, a database of their own loaded with Debian's pg.sql);
 * - TLS: a throw-away self-signed certificate for the domain; clients that verify it (all of ours)
 *   must be given `caFile` (the test rig trusts it, the demo sets NODE_EXTRA_CA_CERTS).
 * Accounts are created through mod_http_api (`register`, ~5 ms) instead of `ejabberdctl register`
 * (~0.5 s each: it boots an Erlang node per call).
 */

export interface EjabberdOptions {
  dir: string;
  domain?: string;
  c2sPort?: number;
  componentPort?: number;
  httpPort?: number;
  distPort?: number;
  componentSecret: string;
  adminUser?: string;
  adminPassword: string;
  /** XEP-0313 archives: true means mnesia (off by default, see above); 'sql' needs `sql` */
  mam?: boolean | 'sql';
  sql?: EjabberdSql;
  /** STARTTLS on c2s with a throw-away certificate (offered, not required) */
  tls?: boolean;
  /** XEP-0198; on by default, as on the test rig's Prosody */
  streamManagement?: boolean;
  /** XEP-0198 resumption window in seconds (default 10) */
  resumeSeconds?: number;
  logLevel?: 'debug' | 'info' | 'warning' | 'error';
  /**
   * Parley's login-token secret (XMPP_LOGIN_TOKEN_SECRET): ejabberd's own JWT authentication checks the tokens
   * (`auth_method: [mnesia, jwt]`, the secret as an `oct` JWK). ejabberd then offers only SASL PLAIN.
   */
  loginTokenSecret?: string;
}

export interface RunningEjabberd {
  kind: 'ejabberd';
  domain: string;
  c2sPort: number;
  componentPort: number;
  httpPort: number;
  /** c2s address for clients, like RunningProsody.service */
  service: string;
  /** mod_http_api base, e.g. http://127.0.0.1:PORT/api (loopback is allowed every command) */
  apiUrl: string;
  adminJid: string;
  adminPassword: string;
  componentSecret: string;
  dir: string;
  /** the throw-away certificate c2s presents (PEM), when started with `tls` */
  caFile?: string;
  /** set when started with loginTokenSecret (JWT authentication on) */
  loginTokenSecret?: string;
  /** the beam.smp process (for CPU/memory readings), once known */
  serverPid(): number | undefined;
  /** SIGTERM to the server's process group (init:stop, ~1 s), SIGKILL after `graceMs` (0: at once) */
  stop(graceMs?: number): Promise<void>;
  start(): Promise<void>;
  register(username: string, password: string): Promise<void>;
  /** POST {apiUrl}/{command} with a JSON body; resolves with the parsed answer, rejects on non-2xx */
  api<T = unknown>(command: string, args: Record<string, unknown>): Promise<T>;
  isRunning(): boolean;
}

const EJABBERDCTL = '/usr/sbin/ejabberdctl';

/** Installs Debian's ejabberd when missing (as root; no service is started: policy-rc.d denies it). */
export async function ensureEjabberd(log: (line: string) => void = () => undefined): Promise<void> {
  if (existsSync(EJABBERDCTL)) return;
  if (process.getuid?.() !== 0)
    throw new Error('ejabberd is not installed and we are not root: apt-get install ejabberd');
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) {
    await writeFile(policy, '#!/bin/sh\nexit 101\n');
    await chmod(policy, 0o755);
  }
  try {
    log('installing ejabberd (apt-get, ~15 s)');
    await run('apt-get', ['update', '-qq']);
    await run('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', 'ejabberd']);
  } finally {
    if (ownPolicy) await run('rm', ['-f', policy]).catch(() => undefined);
  }
  if (!existsSync(EJABBERDCTL))
    throw new Error(`apt-get install ejabberd finished but ${EJABBERDCTL} is missing`);
}

interface Account {
  uid: number;
  gid: number;
}

async function ejabberdAccount(): Promise<Account | undefined> {
  if (process.getuid?.() !== 0) return undefined; // not root: ejabberdctl must then be run as `ejabberd` itself
  const id = async (flag: string): Promise<number> => Number((await run('id', [flag, 'ejabberd'])).trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

/** Debian's schema for ejabberd on PostgreSQL (`dpkg -L ejabberd | grep sql`), single-host layout. */
export const EJABBERD_PG_SCHEMA = '/usr/share/ejabberd/sql/pg.sql';

/**
 * Creates `database` on the PostgreSQL behind `adminUrl` (a URL to any database there, as a superuser)
 * and loads Debian's ejabberd schema into it: what an operator does once before pointing ejabberd at it.
 * An existing database is left as it is.
 */
export async function createEjabberdDatabase(adminUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`not a plain database name: ${database}`);
  const schema = await readFile(EJABBERD_PG_SCHEMA, 'utf8');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount) return; // loaded before (a restarted data dir)
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(schema); // simple-query protocol: the whole file as one multi-statement batch
  } finally {
    await c.end();
  }
}

/** A self-signed certificate for `domain` and its subdomains: `pem` holds key + cert (for ejabberd), `cert` the cert. */
async function makeCertificate(dir: string, domain: string): Promise<{ pem: string; cert: string }> {
  const key = join(dir, 'tls.key');
  const cert = join(dir, 'tls.crt');
  const sans = [domain, `*.${domain}`].map((d) => `DNS:${d}`).join(',');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '7',
    '-subj',
    `/CN=${domain}`,
    '-addext',
    `subjectAltName=${sans}`,
  ]);
  const pem = join(dir, 'tls.pem');
  await writeFile(pem, (await readFile(key, 'utf8')) + (await readFile(cert, 'utf8')));
  return { pem, cert };
}

/** Direct children of `pid` (Linux /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const raw = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return raw.split(/\s+/).filter(Boolean).map(Number);
}

async function findBeam(root: number): Promise<number | undefined> {
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (comm.startsWith('beam')) return pid;
    queue.push(...(await childrenOf(pid)));
  }
  return undefined;
}

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function startEjabberd(opts: EjabberdOptions): Promise<RunningEjabberd> {
  if (!existsSync(EJABBERDCTL))
    throw new Error(`${EJABBERDCTL} not found: call ensureEjabberd() or apt-get install ejabberd`);
  const dir = resolve(opts.dir);
  const [c2sPort, componentPort, httpPort, distPort] = await fillPorts([
    opts.c2sPort,
    opts.componentPort,
    opts.httpPort,
    opts.distPort,
  ]);
  if (opts.mam === 'sql' && !opts.sql) throw new Error("startEjabberd: mam: 'sql' needs `sql`");
  const domain = opts.domain ?? 'localhost';
  const acct = await ejabberdAccount();
  for (const sub of ['', 'spool', 'logs', 'upload']) await mkdir(join(dir, sub), { recursive: true });
  const cert = opts.tls ? await makeCertificate(dir, domain) : undefined;
  const o: EjabberdConfig & { distPort: number } = {
    dir,
    domain,
    c2sPort: c2sPort!,
    componentPort: componentPort!,
    httpPort: httpPort!,
    distPort: distPort!,
    componentSecret: opts.componentSecret,
    adminUser: opts.adminUser ?? 'admin',
    mam: opts.mam === 'sql' ? 'sql' : opts.mam ? 'mnesia' : false,
    ...(opts.sql ? { sql: opts.sql } : {}),
    sm: opts.streamManagement ?? true,
    resumeSeconds: opts.resumeSeconds ?? 10,
    ...(cert ? { certFile: cert.pem } : {}),
    logLevel: opts.logLevel ?? 'warning',
    ...(opts.loginTokenSecret ? { jwkFile: join(dir, 'parley-token.jwk') } : {}),
  };
  const configFile = join(dir, 'ejabberd.yml');
  const ctlFile = join(dir, 'ejabberdctl.cfg');
  await writeFile(configFile, renderEjabberdConfig(o));
  if (o.jwkFile) {
    // The secret's bytes as an HS256 key: the same bytes Parley signs with (LoginTokens.ts).
    const k = Buffer.from(opts.loginTokenSecret!, 'utf8').toString('base64url');
    await writeFile(o.jwkFile, JSON.stringify({ kty: 'oct', k }), { mode: 0o600 });
  }
  // Sourced by ejabberdctl (shell syntax). A node name of its own, so a system ejabberd is never touched.
  await writeFile(
    ctlFile,
    [
      `ERL_DIST_PORT=${o.distPort}`,
      'INET_DIST_INTERFACE=127.0.0.1',
      `ERLANG_NODE=ejabberd-${o.c2sPort}@localhost`,
      'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 +sbwt none +sbwtdcpu none +sbwtdio none"',
      `EJABBERD_PID_PATH=${join(dir, 'ejabberd.pid')}`,
      `CONTRIB_MODULES_PATH=${join(dir, 'contrib')}`,
      '',
    ].join('\n'),
  );
  if (acct) {
    // ejabberd runs as its own user: it must own its dir and reach it through every parent.
    const owned = [dir, join(dir, 'spool'), join(dir, 'logs'), join(dir, 'upload'), configFile, ctlFile];
    const extra = [...(cert ? [cert.pem] : []), ...(o.jwkFile ? [o.jwkFile] : [])];
    for (const f of [...owned, ...extra]) await chown(f, acct.uid, acct.gid);
    for (let p = dirname(dir); p !== dirname(p); p = dirname(p)) {
      const s = await stat(p);
      if ((s.mode & 0o001) === 0) {
        throw new Error(
          `ejabberd (uid ${acct.uid}) cannot traverse ${p} (mode ${(s.mode & 0o777).toString(8)}): chmod o+x it or pick a dir elsewhere`,
        );
      }
    }
  }
  const apiUrl = `http://127.0.0.1:${o.httpPort}/api`;
  const logFile = join(dir, 'logs', 'ejabberd.log');
  const errFile = join(dir, 'logs', 'error.log');

  let child: ManagedChild | undefined;
  let beam: number | undefined;

  const diagnostics = async (): Promise<string> => {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    const err = await readFile(errFile, 'utf8').catch(() => '');
    const out = child?.output().trim();
    return `--- ${logFile} (tail) ---\n${tail(log)}${err ? `\n--- ${errFile} ---\n${tail(err)}` : ''}${out ? `\n--- stdout/stderr ---\n${tail(out)}` : ''}`;
  };

  const api = async <T>(command: string, args: Record<string, unknown>): Promise<T> => {
    const res = await fetch(`${apiUrl}/${command}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(args),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`ejabberd api ${command}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  const apiAnswers = async (): Promise<boolean> => {
    try {
      await api('status', {});
      return true;
    } catch {
      return false;
    }
  };

  const stop = async (graceMs = 8000): Promise<void> => {
    const pgid = child?.pid;
    if (!child || pgid === undefined) return;
    if (!groupAlive(pgid)) {
      await child.exited();
      return;
    }
    try {
      process.kill(-pgid, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    } catch {
      /* gone */
    }
    const deadline = Date.now() + graceMs;
    while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (groupAlive(pgid)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await child.exited();
    while (groupAlive(pgid)) await new Promise((r) => setTimeout(r, 20));
    beam = undefined;
  };

  const start = async (): Promise<void> => {
    if (child?.running()) return;
    const env = { ...process.env, HOME: dir, LANG: 'C.UTF-8' };
    child = spawnManaged(
      EJABBERDCTL,
      ['-c', ctlFile, '-f', configFile, '-s', join(dir, 'spool'), '-l', join(dir, 'logs'), 'foreground'],
      {
        cwd: dir,
        env,
        detached: true,
        ...(acct ? { uid: acct.uid, gid: acct.gid } : {}),
      },
    );
    const root = child.pid;
    // spawnManaged's exit hook kills only the shell; take the whole group down with us.
    if (root !== undefined)
      process.once('exit', () => {
        try {
          process.kill(-root, 'SIGKILL');
        } catch {
          /* gone */
        }
      });
    await waitReady(
      'ejabberd',
      child,
      async () => {
        if (!(await streamAnswers(o.c2sPort, o.domain))) return false;
        return apiAnswers();
      },
      diagnostics,
      { timeoutMs: 30_000, intervalMs: 50 },
    ).catch(async (err) => {
      await stop();
      throw err;
    });
    if (root !== undefined) beam = await findBeam(root);
  };

  const register = async (username: string, password: string): Promise<void> => {
    await api('register', { user: username, host: o.domain, password });
  };

  await start();
  // A restarted data dir (the demo's) still has the admin: set its password instead.
  await register(o.adminUser, opts.adminPassword).catch(async (err: Error) => {
    const users = await api<string[]>('registered_users', { host: o.domain });
    if (!users.includes(o.adminUser)) throw err;
    await api('change_password', { user: o.adminUser, host: o.domain, newpass: opts.adminPassword });
  });

  return {
    kind: 'ejabberd',
    domain: o.domain,
    c2sPort: o.c2sPort,
    componentPort: o.componentPort,
    httpPort: o.httpPort,
    service: `xmpp://127.0.0.1:${o.c2sPort}`,
    apiUrl,
    adminJid: `${o.adminUser}@${o.domain}`,
    adminPassword: opts.adminPassword,
    componentSecret: o.componentSecret,
    loginTokenSecret: opts.loginTokenSecret,
    dir,
    ...(cert ? { caFile: cert.cert } : {}),
    serverPid: () => beam,
    start,
    stop,
    register,
    api,
    isRunning: () => child?.running() ?? false,
  };
}
