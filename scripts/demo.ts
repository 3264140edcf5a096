/**
 * The demo: a local Prosody (data in $PARLEY_DATA_DIR/prosody) or, with `--server ejabberd`, a local
 * ejabberd (data in $PARLEY_DATA_DIR/ejabberd, its archives in a PostgreSQL of its own in
 * $PARLEY_DATA_DIR/ejabberd-pg, as production sites run it); Parley on embedded Postgres (PGlite, data in
 * $PARLEY_DATA_DIR/pgdata) unless DATABASE_URL is set, a local Redis (unless REDIS_URL is set) with the
 * BigBlueButton bridge on (a generated BBB_SECRET unless one is set), and a printed quick-start.
 * Everything persists in the data dir, so a restart keeps accounts, history and the master secret.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/loadConfig.js';
import { createLogger } from '../src/log.js';
import { startParley } from '../src/startParley.js';
import { parseArgs } from 'node:util';
import { createEjabberdDatabase, startEjabberd } from '../tools/servers/ejabberd.js';
import { startPostgres } from '../tools/servers/postgres.js';
import { startProsody } from '../tools/servers/prosody.js';
import { freePort } from '../tools/servers/freePort.js';
import { startRedis, type RunningRedis } from '../tools/servers/redis.js';
import { trustCertificate } from '../tools/servers/trustCertificate.js';
import { parseServerKind, type RunningXmppServer, type XmppServerKind } from '../tools/servers/xmppServer.js';

interface DemoState {
  /** the XMPP server the data dir was made with (absent: Prosody, from before there was a choice) */
  server?: XmppServerKind;
  adminPassword: string;
  componentSecret: string;
  c2sPort: number;
  componentPort: number;
  httpPort: number;
  /** shared with Prosody's mod_auth_parley: the master secret opens any account (docs/accounts.md); added to
   * older state files on start */
  loginTokenSecret?: string;
  /** the BigBlueButton bridge's secret (BBB-Chat's checksums); added to older state files on start */
  bbbSecret?: string;
}

async function loadState(dir: string, server: XmppServerKind): Promise<DemoState> {
  const file = join(dir, 'demo-xmpp.json');
  let saved: DemoState | undefined;
  try {
    saved = JSON.parse(await readFile(file, 'utf8')) as DemoState;
  } catch {
    saved = undefined;
  }
  if (saved) {
    // Accounts live on the XMPP server: Parley's stored logins would not exist on the other one.
    if ((saved.server ?? 'prosody') !== server)
      throw new Error(
        `${dir} holds a demo on ${saved.server ?? 'prosody'}: use --server ${saved.server ?? 'prosody'} or another PARLEY_DATA_DIR`,
      );
    return saved;
  }
  {
    const state: DemoState = {
      server,
      adminPassword: randomBytes(18).toString('base64url'),
      componentSecret: randomBytes(18).toString('base64url'),
      c2sPort: await freePort(),
      componentPort: await freePort(),
      httpPort: await freePort(),
    };
    await writeFile(file, JSON.stringify(state, null, 2), { mode: 0o600 });
    return state;
  }
}

/**
 * The web client with two demo users who are each other's contacts: logs both in with the master secret (as an
 * embedding site's server would) and returns the two /chat/ URLs to open in two browser windows.
 */
async function demoChatUsers(base: string, secret: string): Promise<string> {
  const post = async (path: string, auth: string, json?: unknown) => {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { Authorization: auth, ...(json ? { 'Content-Type': 'application/json' } : {}) },
      body: json ? JSON.stringify(json) : undefined,
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : ((await res.json()) as { streamId: string; token: string });
  };
  const [alice, bob] = [
    (await post('/restapi/v1/chat/alice/login', secret))!,
    (await post('/restapi/v1/chat/bob/login', secret))!,
  ];
  // Mutual contacts, so each sees the other's presence: alice asks, bob approves (and asks back), alice approves.
  await post(`/restapi/v1/chat/${alice.streamId}/contacts`, `Bearer ${alice.token}`, { jid: 'bob' });
  await post(`/restapi/v1/chat/${bob.streamId}/contacts/alice/subscription`, `Bearer ${bob.token}`);
  await post(`/restapi/v1/chat/${alice.streamId}/contacts/bob/subscription`, `Bearer ${alice.token}`).catch(
    () => undefined,
  );
  // An expert queue staffed by both, for the visitor's "ask a question" page (kept across restarts: 409 then).
  await post('/restapi/v1/ask/admin', secret, {
    name: 'help',
    description: 'Demo help desk',
    members: 'alice, bob',
    welcomeText: 'Welcome to the demo help desk',
  }).catch((err: Error) => {
    if (!/ 409 /.test(err.message)) throw err;
  });
  const url = (s: { streamId: string; token: string }, peer: string) =>
    `${base}/chat/#streamId=${s.streamId}&token=${encodeURIComponent(s.token)}&open=${peer}`;
  return `  Web chat client (open each in its own browser window; the sessions idle out after 15 minutes unused):
    alice: ${url(alice, 'bob')}
    bob:   ${url(bob, 'alice')}
  A visitor without an account asks the "help" queue (alice or bob: Queues tab, "Go on duty"):
    ${base}/chat/#ask=help

`;
}

/**
 * The demo's XMPP server. ejabberd keeps its archives in a PostgreSQL of its own (not the PGlite Parley may
 * use: ejabberd speaks to a real server) and offers STARTTLS with a throw-away certificate this process trusts.
 * Both check Parley's login tokens (Prosody with mod_auth_parley, ejabberd with its JWT authentication).
 */
async function startXmpp(
  server: XmppServerKind,
  dataDir: string,
  domain: string,
  state: DemoState,
): Promise<RunningXmppServer> {
  const common = {
    dir: join(dataDir, server),
    domain,
    adminPassword: state.adminPassword,
    componentSecret: state.componentSecret,
    c2sPort: state.c2sPort,
    componentPort: state.componentPort,
    httpPort: state.httpPort,
    loginTokenSecret: state.loginTokenSecret,
  };
  if (server === 'prosody') return startProsody({ ...common, archiveStorage: 'internal' });
  // As root, ejabberd and its PostgreSQL run as their own users, who must be able to pass through the data
  // dir (its files keep their own modes: the secret stays 0600).
  if (process.getuid?.() === 0) await chmod(dataDir, (await stat(dataDir)).mode | 0o001);
  const pgServer = await startPostgres({ dir: join(dataDir, 'ejabberd-pg') });
  try {
    await createEjabberdDatabase(pgServer.url, 'ejabberd');
    const ejabberd = await startEjabberd({
      ...common,
      mam: 'sql',
      sql: { host: pgServer.host, port: pgServer.port, database: 'ejabberd', username: 'postgres' },
      tls: true,
      logLevel: 'warning',
    });
    if (ejabberd.caFile) trustCertificate(ejabberd.caFile);
    return {
      ...ejabberd,
      stop: async () => {
        await ejabberd.stop();
        await pgServer.stop();
      },
    };
  } catch (err) {
    await pgServer.stop();
    throw err;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { server: { type: 'string' } } });
  const server = parseServerKind(values.server, '--server');
  const dataDir = resolve(process.env.PARLEY_DATA_DIR ?? '.parley');
  await mkdir(dataDir, { recursive: true });
  const state = await loadState(dataDir, server);
  if (!state.bbbSecret || !state.loginTokenSecret) {
    state.bbbSecret ??= randomBytes(32).toString('hex');
    state.loginTokenSecret ??= randomBytes(32).toString('hex');
    await writeFile(join(dataDir, 'demo-xmpp.json'), JSON.stringify(state, null, 2), { mode: 0o600 });
  }
  const domain = process.env.XMPP_DOMAIN ?? 'localhost';
  // BigBlueButton speaks to the bridge through Redis: a throw-away one unless REDIS_URL names one.
  const redis: RunningRedis | undefined = process.env.REDIS_URL
    ? undefined
    : await startRedis({ dir: join(dataDir, 'redis') });
  const xmpp = await startXmpp(server, dataDir, domain, state).catch(async (err: unknown) => {
    await redis?.stop();
    throw err;
  });
  let config;
  try {
    config = loadConfig({
      PARLEY_LOG_LEVEL: 'info',
      PARLEY_LOG_FORMAT: 'pretty', // people read the demo's logs; PARLEY_LOG_FORMAT=json for the real thing
      // The demo listens on loopback: a chat page served from another port (an ofchat visitor page) may call it.
      PARLEY_CORS_ORIGINS: '*',
      ...process.env,
      PARLEY_DATA_DIR: dataDir,
      XMPP_DOMAIN: domain,
      XMPP_SERVICE: xmpp.service,
      XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${xmpp.componentPort}`,
      XMPP_ADMIN_JID: xmpp.adminJid,
      XMPP_ADMIN_PASSWORD: xmpp.adminPassword,
      XMPP_COMPONENT_SECRET: xmpp.componentSecret,
      XMPP_LOGIN_TOKEN_SECRET: state.loginTokenSecret!,
      REDIS_URL: process.env.REDIS_URL || redis!.url,
      BBB_SECRET: process.env.BBB_SECRET || state.bbbSecret,
    });
  } catch (err) {
    await xmpp.stop();
    await redis?.stop();
    if (err instanceof ConfigError) {
      console.error(`parley demo: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, { format: config.logFormat });
  const parley = await startParley(config, log);
  const u = parley.url;
  const chat = await demoChatUsers(u, parley.secret).catch((err: Error) => {
    log.warn({ err }, 'demo chat users failed');
    return '';
  });
  console.log(`
  Parley is running (demo).
    Explorer (OpenAPI "try it"):  ${u}/docs
    Master secret:                ${parley.secret}${parley.secretGenerated ? '   (generated, kept in ' + join(dataDir, 'secret') + ')' : ''}
    XMPP server (${xmpp.kind === 'prosody' ? 'Prosody' : 'ejabberd'}):${xmpp.kind === 'prosody' ? ' ' : ''}       ${xmpp.service}  domain ${domain}
    Database:                     ${config.database.url ? config.database.url.replace(/:[^:@/]+@/, ':***@') : 'embedded PGlite in ' + join(dataDir, 'pgdata')}
    Redis:                        ${redis ? redis.url + ' (throw-away)' : 'REDIS_URL'}
    BigBlueButton chat bridge:    ${u}/api/runningChats   BBB_SECRET=${config.bbb.secret ?? ''}

  Log a user in (Parley creates the account on first use):
    curl -s -X POST -H 'Authorization: ${parley.secret}' ${u}/restapi/v1/chat/alice/login
  Then follow the events it returns:
    curl -N '<events URL>?token=<token>'

${chat}  Ctrl-C stops Parley, ${xmpp.kind === 'prosody' ? 'Prosody' : 'ejabberd'} and Redis.
`);
  const stop = async () => {
    await parley.stop().catch((err) => log.error({ err }, 'stop failed'));
    await xmpp.stop();
    await redis?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error('parley demo failed:', err);
  process.exit(1);
});
