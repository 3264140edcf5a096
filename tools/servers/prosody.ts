import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamAnswers } from './probe.js';
import { fillPorts } from './freePort.js';
import { run, spawnManaged, tail, waitReady, type ManagedChild } from './child.js';

/**
 * A throw-away Prosody 0.12 in a directory of its own, run in the foreground as our child.
 * Facts behind the config (run_as_root, no mod_limits, memory archives, nagle) are in
 * /work/shared/reference/prosody-recipe.md.
 */

export interface ProsodyOptions {
  dir: string;
  domain?: string;
  c2sPort?: number;
  componentPort?: number;
  httpPort?: number;
  componentSecret: string;
  adminUser?: string;
  adminPassword: string;
  scramIterations?: number;
  hibernationSeconds?: number;
  archiveStorage?: 'memory' | 'internal' | 'sql';
  /**
   * Where the sql store lives. Default: an SQLite file in the directory. Deployments (the Ansible role) use
   * PostgreSQL through LuaDBI (Debian's lua-dbi-postgresql), whose queries block Prosody's one thread.
   */
  sql?: ProsodySql;
  /**
   * `archive_expires_after`. Default: "never" on the memory store (it lives until a restart, capped per user by
   * `storage_archive_item_limit`), "1d" on the others. Expiry is not free without an archive store that
   * deletes by wildcard (sql does; memory and internal do not): Prosody 0.12's mod_mam then records each
   * user's first archived message of a day in an `archive_cleanup` map that the storage manager keeps as one
   * keyval entry per day, so every new user-day loads, re-serializes and rewrites the whole day's list of users.
   * With the memory store that cost 10-20 ms of Prosody's CPU per message between two users who had not been
   * messaged that day (1,000 users online), and nearly every message at 5,000 (its cache of users already
   * recorded holds 1,000): bench/tools/pair-cost.ts, bench/JOURNAL.md "Who talks to whom".
   */
  archiveExpiresAfter?: string;
  logLevel?: 'debug' | 'info' | 'warn';
  /** directories of community modules (prosody-modules checkouts) */
  pluginPaths?: string[];
  /** modules enabled on top of the standard set (e.g. "rest" from pluginPaths) */
  extraModules?: string[];
  /**
   * Parley's login-token secret (XMPP_LOGIN_TOKEN_SECRET): authenticates through the project's
   * mod_auth_parley (prosody/modules), which accepts Parley's signed tokens and otherwise is internal_hashed.
   */
  loginTokenSecret?: string;
  /**
   * XEP-0198: stanzas Prosody sends a session before it asks for an ack (`smacks_max_unacked_stanzas`).
   * Prosody's default, 0, asks after every stanza it delivers: an `<r/>` and the client's `<a/>` per message.
   */
  smacksMaxUnacked?: number;
  /** global Lua lines appended before the VirtualHost (bench experiments: e.g. dont_archive_namespaces) */
  extraConfig?: string[];
  /**
   * Lua's garbage collector (Prosody's `gc` setting). Default "generational", as deployed: Prosody 0.12's
   * default (incremental, pause 105 %) starts a full marking of the heap every time it grows by 5 %, so
   * with thousands of sessions on the heap the collector spent half of Prosody's CPU (bench/JOURNAL.md,
   * "Prosody's garbage collector and allocator").
   */
  gcMode?: 'generational' | 'incremental';
  /**
   * Run Prosody with jemalloc (LD_PRELOAD) when libjemalloc2 is installed (default true), as deployed: glibc's
   * malloc spent ~half of Prosody's bursts consolidating the chunks a collection freed.
   */
  jemalloc?: boolean;
}

/** Prosody's `sql` setting for a PostgreSQL database (trust auth on loopback needs no password). */
export interface ProsodySql {
  driver: 'PostgreSQL';
  database: string;
  host: string;
  port: number;
  username: string;
  password?: string;
}

/** Debian's libjemalloc2 (scripts/ensure-system.sh installs it; Ansible's Prosody role preloads it). */
export const JEMALLOC = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`;

/** The project's own Prosody modules (mod_auth_parley), for plugin_paths. */
export const PARLEY_PROSODY_MODULES = fileURLToPath(new URL('../../prosody/modules', import.meta.url));

export interface RunningProsody {
  kind: 'prosody';
  domain: string;
  c2sPort: number;
  componentPort: number;
  httpPort: number;
  service: string;
  adminJid: string;
  adminPassword: string;
  componentSecret: string;
  /** set when started with loginTokenSecret (mod_auth_parley on) */
  loginTokenSecret?: string;
  dir: string;
  /** what Prosody runs with (reported by the bench) */
  gcMode: string;
  allocator: 'jemalloc' | 'glibc';
  stop(): Promise<void>;
  start(): Promise<void>;
  register(username: string, password: string): Promise<void>;
  isRunning(): boolean;
}

/** The rig's, the bench's and the deployments' `smacks_max_unacked_stanzas` (bench/JOURNAL.md: why this value). */
export const SMACKS_MAX_UNACKED = 10;

// Lua string literal; bytes outside printable ASCII become \ddd so no value can break the syntax.
function lua(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22 || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += '\\' + String(b).padStart(3, '0');
  }
  return out + '"';
}

interface Resolved {
  dir: string;
  domain: string;
  c2sPort: number;
  componentPort: number;
  httpPort: number;
  componentSecret: string;
  adminUser: string;
  scramIterations: number;
  hibernationSeconds: number;
  archiveStorage: string;
  sql?: ProsodySql;
  archiveExpiresAfter: string;
  logLevel: string;
  pluginPaths: string[];
  extraModules: string[];
  /** the file holding the login-token secret, when mod_auth_parley is on */
  tokenSecretFile?: string;
  smacksMaxUnacked: number;
  extraConfig: string[];
  gcMode: string;
}

function renderSql(sql: ProsodySql | undefined, sqliteFile: string): string {
  if (!sql) return `sql = { driver = "SQLite3", database = ${lua(sqliteFile)} }`;
  const password = sql.password === undefined ? '' : `, password = ${lua(sql.password)}`;
  return (
    `sql = { driver = ${lua(sql.driver)}, database = ${lua(sql.database)}, host = ${lua(sql.host)}, ` +
    `port = ${sql.port}, username = ${lua(sql.username)}${password} }`
  );
}

function renderConfig(o: Resolved): string {
  const d = o.dir;
  return `-- Generated by tools/servers/prosody.ts (startProsody); edits are overwritten.
run_as_root = true  -- as root, 0.12.3 otherwise hangs instead of refusing to start
data_path = ${lua(join(d, 'data'))}
pidfile = ${lua(join(d, 'prosody.pid'))}
certificates = ${lua(join(d, 'certs'))}
${o.pluginPaths.length ? `plugin_paths = { ${o.pluginPaths.map(lua).join(', ')} }\n` : ''}log = { { levels = { min = ${lua(o.logLevel)} }, to = "file", filename = ${lua(join(d, 'prosody.log'))} } }

admins = { ${lua(`${o.adminUser}@${o.domain}`)} }

interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { ${o.c2sPort} }
c2s_direct_tls_ports = { }
s2s_ports = { }
component_ports = { ${o.componentPort} }
component_interfaces = { "127.0.0.1" }
http_ports = { ${o.httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
http_default_host = ${lua(o.domain)}
network_settings = { nagle = false }  -- else ~45 ms per round trip with XEP-0198 acks

c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
${
  o.tokenSecretFile
    ? `authentication = "parley"  -- internal_hashed + Parley's login tokens (prosody/modules/mod_auth_parley.lua)
parley_token_secret_file = ${lua(o.tokenSecretFile)}`
    : 'authentication = "internal_hashed"'
}
default_iteration_count = ${o.scramIterations}

-- Accounts stay on disk: prosodyctl register writes them from another process.
default_storage = "internal"
storage = { archive = ${lua(o.archiveStorage)} }
${renderSql(o.sql, join(d, 'prosody.sqlite'))}
allow_registration = true

modules_enabled = {
  "roster"; "saslauth"; "disco"; "carbons"; "adhoc"; "admin_adhoc"; "blocklist";
  "vcard_legacy"; "vcard4"; "pep"; "private"; "bookmarks"; "ping"; "register"; "version"; "uptime";
  "time"; "http"; "csi_simple"; "mam"; "smacks";${o.extraModules.map((m) => ` ${lua(m)};`).join('')}
}  -- no "limits": Debian's default throttles c2s
modules_disabled = { "s2s"; "dialback" }
archive_expires_after = ${lua(o.archiveExpiresAfter)}  -- why "never" on the memory store: ProsodyOptions.archiveExpiresAfter
default_archive_policy = true
smacks_hibernation_time = ${o.hibernationSeconds}
-- Ask for an XEP-0198 ack after this many unacked stanzas, not after each one (Prosody's default 0).
smacks_max_unacked_stanzas = ${o.smacksMaxUnacked}
gc = { mode = ${lua(o.gcMode)} }  -- why: ProsodyOptions.gcMode
${o.extraConfig.map((l) => `${l}\n`).join('')}
VirtualHost ${lua(o.domain)}

Component ${lua(`conference.${o.domain}`)} "muc"
  modules_enabled = { "muc_mam" }
  restrict_room_creation = false
  muc_room_locking = false
  muc_room_default_persistent = false

Component ${lua(`workgroup.${o.domain}`)}
  component_secret = ${lua(o.componentSecret)}

Component ${lua(`bbb.${o.domain}`)}
  component_secret = ${lua(o.componentSecret)}

Component ${lua(`sync.${o.domain}`)}  -- site sync (docs/site-sync.md): users of the other deployment
  component_secret = ${lua(o.componentSecret)}
`;
}

export async function startProsody(opts: ProsodyOptions): Promise<RunningProsody> {
  const dir = resolve(opts.dir);
  const [c2sPort, componentPort, httpPort] = await fillPorts([
    opts.c2sPort,
    opts.componentPort,
    opts.httpPort,
  ]);
  const o: Resolved = {
    dir,
    domain: opts.domain ?? 'localhost',
    c2sPort: c2sPort!,
    componentPort: componentPort!,
    httpPort: httpPort!,
    componentSecret: opts.componentSecret,
    adminUser: opts.adminUser ?? 'admin',
    scramIterations: opts.scramIterations ?? 10_000,
    hibernationSeconds: opts.hibernationSeconds ?? 10,
    archiveStorage: opts.archiveStorage ?? 'memory',
    sql: opts.sql,
    archiveExpiresAfter:
      opts.archiveExpiresAfter ?? ((opts.archiveStorage ?? 'memory') === 'memory' ? 'never' : '1d'),
    logLevel: opts.logLevel ?? 'info',
    pluginPaths: [
      ...(opts.pluginPaths ?? []).map((p) => resolve(p)),
      ...(opts.loginTokenSecret ? [PARLEY_PROSODY_MODULES] : []),
    ],
    extraModules: opts.extraModules ?? [],
    tokenSecretFile: opts.loginTokenSecret ? join(dir, 'parley-token.secret') : undefined,
    smacksMaxUnacked: opts.smacksMaxUnacked ?? SMACKS_MAX_UNACKED,
    extraConfig: opts.extraConfig ?? [],
    gcMode: opts.gcMode ?? 'generational',
  };
  const preload = (opts.jemalloc ?? true) && existsSync(JEMALLOC) ? JEMALLOC : undefined;
  const configFile = join(dir, 'prosody.cfg.lua');
  const logFile = join(dir, 'prosody.log');
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'certs'), { recursive: true });
  if (o.tokenSecretFile) await writeFile(o.tokenSecretFile, opts.loginTokenSecret + '\n', { mode: 0o600 });
  await writeFile(configFile, renderConfig(o));

  let child: ManagedChild | undefined;

  const register = async (username: string, password: string): Promise<void> => {
    await run('prosodyctl', ['--config', configFile, 'register', username, o.domain, password], { cwd: dir });
  };

  const diagnostics = async (): Promise<string> => {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    const out = child?.output().trim();
    return `--- ${logFile} (tail) ---\n${tail(log)}${out ? `\n--- stdout/stderr ---\n${tail(out)}` : ''}`;
  };

  const start = async (): Promise<void> => {
    if (child?.running()) return;
    const logStart = (await stat(logFile).catch(() => undefined))?.size ?? 0;
    // Prosody keeps running when a port is taken (it only logs it), and a component or http port
    // held by someone else would silently route tests elsewhere.
    const assertPortsOpened = async (): Promise<void> => {
      const log = (await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(logStart).toString('utf8');
      const busy = /Failed to open server port \d+[^\n]*/.exec(log);
      if (busy) throw new Error(`prosody: ${busy[0]}`);
    };
    child = spawnManaged('prosody', ['-F', '--config', configFile], {
      cwd: dir,
      env: preload ? { ...process.env, LD_PRELOAD: preload } : process.env,
    });
    await waitReady(
      'prosody',
      child,
      async () => {
        await assertPortsOpened();
        // A stream answer (not just an accepted TCP connect, which the kernel gives as soon as the
        // socket listens) means start-up finished: every module is loaded and every port is tried.
        if (!(await streamAnswers(o.c2sPort, o.domain))) return false;
        await assertPortsOpened();
        return true;
      },
      diagnostics,
      { timeoutMs: 15_000, intervalMs: 10 },
    );
  };

  await register(o.adminUser, opts.adminPassword);
  await start();

  return {
    kind: 'prosody',
    domain: o.domain,
    c2sPort: o.c2sPort,
    componentPort: o.componentPort,
    httpPort: o.httpPort,
    service: `xmpp://127.0.0.1:${o.c2sPort}`,
    adminJid: `${o.adminUser}@${o.domain}`,
    adminPassword: opts.adminPassword,
    componentSecret: o.componentSecret,
    loginTokenSecret: opts.loginTokenSecret,
    dir,
    gcMode: o.gcMode,
    allocator: preload ? 'jemalloc' : 'glibc',
    start,
    register,
    stop: async () => {
      await child?.stop('SIGTERM', 5000);
    },
    isRunning: () => child?.running() ?? false,
  };
}
