import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { streamAnswers } from './probe.js';
import { fillPorts } from './freePort.js';
import { run, spawnManaged, tail, waitReady, type ManagedChild } from './child.js';

/**
 * A throw-away ejabberd (Debian's 23.01) in a directory of its own, run in the foreground as our child,
 * for interop and benchmark runs (the test rig itself uses Prosody: it starts 10–20× faster).
 * Facts behind the config (/work/shared/reference/prosody-recipe.md §6, verified here):
 * - as root, ejabberdctl su's to the `ejabberd` user; we run it as that user directly (spawn uid/gid),
 *   so the whole directory is chowned to it and every parent must be traversable;
 * - ERL_DIST_PORT fixes the Erlang distribution port, so no epmd daemon is started or left behind;
 * - ejabberdctl runs erl as a child of its shell, not exec'd: the server is stopped through its
 *   process group (SIGTERM → init:stop, ~1 s), never by name;
 * - the Debian default config throttles c2s to 3000 B/s (shaper `normal`) and bans IPs after failed
 *   logins (mod_fail2ban): neither is enabled here;
 * - mod_mam on mnesia crawled at 80–170 ms per message: archives are off unless `mam: true`.
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
  /** XEP-0313 archives (mnesia); off by default, see above */
  mam?: boolean;
  /** XEP-0198; on by default, as on the test rig's Prosody */
  streamManagement?: boolean;
  logLevel?: 'debug' | 'info' | 'warning' | 'error';
  /**
   * Parley's login-token secret (XMPP_LOGIN_TOKEN_SECRET): ejabberd's own JWT authentication checks the tokens
   * (`auth_method: [mnesia, jwt]`, the secret as an `oct` JWK). ejabberd then offers only SASL PLAIN.
   */
  loginTokenSecret?: string;
}

export interface RunningEjabberd {
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

// YAML double-quoted scalar: JSON's string syntax is valid there.
const y = (s: string): string => JSON.stringify(s);

interface Resolved {
  dir: string;
  domain: string;
  c2sPort: number;
  componentPort: number;
  httpPort: number;
  distPort: number;
  componentSecret: string;
  adminUser: string;
  mam: boolean;
  sm: boolean;
  logLevel: string;
  /** the JWK file holding the login-token secret, when JWT authentication is on */
  jwkFile?: string;
}

function renderConfig(o: Resolved): string {
  return `# Generated by tools/servers/ejabberd.ts (startEjabberd); edits are overwritten.
loglevel: ${o.logLevel}
log_rotate_count: 0
hosts:
  - ${y(o.domain)}
hide_sensitive_log_data: true
listen:
  -
    port: ${o.c2sPort}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    starttls_required: false
    access: c2s
  -
    port: ${o.componentPort}
    ip: "127.0.0.1"
    module: ejabberd_service
    hosts:
      ${y(`workgroup.${o.domain}`)}:
        password: ${y(o.componentSecret)}
      ${y(`bbb.${o.domain}`)}:
        password: ${y(o.componentSecret)}
  -
    port: ${o.httpPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
s2s_access: none
# PLAIN without TLS on loopback (@xmpp/client picks PLAIN when asked); SCRAM hashes are stored.
auth_password_format: scram
${
  o.jwkFile
    ? `# The store first, then Parley's login tokens (docs/accounts.md); with jwt, only PLAIN is offered.
auth_method: [mnesia, jwt]
jwt_key: ${y(o.jwkFile)}
jwt_jid_field: jid
`
    : ''
}disable_sasl_mechanisms: ["digest-md5", "X-OAUTH2"]
acl:
  admin:
    user:
      - ${y(`${o.adminUser}@${o.domain}`)}
  local:
    user_regexp: ""
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  announce:
    allow: admin
  configure:
    allow: admin
  muc_create:
    allow: local
api_permissions:
  "console commands":
    from:
      - ejabberd_ctl
    who: all
    what: "*"
  "loopback http api":
    from:
      - mod_http_api
    who:
      ip: 127.0.0.1/8
    what: "*"
shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages: 5000
  c2s_shaper: none
  s2s_shaper: none
modules:
  mod_adhoc: {}
  mod_admin_extra: {}
  mod_blocking: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_client_state: {}
  mod_configure: {}
  mod_disco: {}
  mod_http_api: {}
  mod_last: {}
${o.mam ? '  mod_mam:\n    db_type: mnesia\n    default: always\n' : ''}  mod_muc:
    host: ${y(`conference.${o.domain}`)}
    access: [allow]
    access_admin: [{allow: admin}]
    access_create: muc_create
    access_persistent: muc_create
    max_users: 5000
    max_user_conferences: 1000
    default_room_options:
      mam: ${o.mam ? 'true' : 'false'}
  mod_muc_admin: {}
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_ping: {}
  mod_privacy: {}
  mod_private: {}
  mod_pubsub:
    access_createnode: local
    plugins: [flat, pep]
  mod_roster:
    versioning: true
${o.sm ? '  mod_stream_mgmt:\n    resend_on_timeout: if_offline\n    resume_timeout: 10\n' : ''}  mod_vcard:
    search: false
  mod_version: {}
`;
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
  const o: Resolved = {
    dir,
    domain: opts.domain ?? 'localhost',
    c2sPort: c2sPort!,
    componentPort: componentPort!,
    httpPort: httpPort!,
    distPort: distPort!,
    componentSecret: opts.componentSecret,
    adminUser: opts.adminUser ?? 'admin',
    mam: opts.mam ?? false,
    sm: opts.streamManagement ?? true,
    logLevel: opts.logLevel ?? 'warning',
    jwkFile: opts.loginTokenSecret ? join(dir, 'parley-token.jwk') : undefined,
  };
  const acct = await ejabberdAccount();
  for (const sub of ['', 'spool', 'logs']) await mkdir(join(dir, sub), { recursive: true });
  const configFile = join(dir, 'ejabberd.yml');
  const ctlFile = join(dir, 'ejabberdctl.cfg');
  await writeFile(configFile, renderConfig(o));
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
      'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"',
      `EJABBERD_PID_PATH=${join(dir, 'ejabberd.pid')}`,
      `CONTRIB_MODULES_PATH=${join(dir, 'contrib')}`,
      '',
    ].join('\n'),
  );
  if (acct) {
    // ejabberd runs as its own user: it must own its dir and reach it through every parent.
    for (const f of [
      dir,
      join(dir, 'spool'),
      join(dir, 'logs'),
      configFile,
      ctlFile,
      ...(o.jwkFile ? [o.jwkFile] : []),
    ])
      await chown(f, acct.uid, acct.gid);
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
  await register(o.adminUser, opts.adminPassword);

  return {
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
    serverPid: () => beam,
    start,
    stop,
    register,
    api,
    isRunning: () => child?.running() ?? false,
  };
}
