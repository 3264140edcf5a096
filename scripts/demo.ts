/**
 * The demo: a local Prosody (data in $PARLEY_DATA_DIR/prosody), Parley on embedded Postgres (PGlite,
 * data in $PARLEY_DATA_DIR/pgdata) unless DATABASE_URL is set, and a printed quick-start.
 * Everything persists in the data dir, so a restart keeps accounts, history and the master secret.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/loadConfig.js';
import { createLogger } from '../src/log.js';
import { startParley } from '../src/startParley.js';
import { startProsody } from '../tools/servers/prosody.js';
import { freePort } from '../tools/servers/freePort.js';

interface DemoState { adminPassword: string; componentSecret: string; c2sPort: number; componentPort: number; httpPort: number }

async function loadState(dir: string): Promise<DemoState> {
  const file = join(dir, 'demo-xmpp.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DemoState;
  } catch {
    const state: DemoState = {
      adminPassword: randomBytes(18).toString('base64url'), componentSecret: randomBytes(18).toString('base64url'),
      c2sPort: await freePort(), componentPort: await freePort(), httpPort: await freePort(),
    };
    await writeFile(file, JSON.stringify(state, null, 2), { mode: 0o600 });
    return state;
  }
}

async function main(): Promise<void> {
  const dataDir = resolve(process.env.PARLEY_DATA_DIR ?? '.parley');
  await mkdir(dataDir, { recursive: true });
  const state = await loadState(dataDir);
  const domain = process.env.XMPP_DOMAIN ?? 'localhost';
  const prosody = await startProsody({
    dir: join(dataDir, 'prosody'), domain, adminPassword: state.adminPassword, componentSecret: state.componentSecret,
    c2sPort: state.c2sPort, componentPort: state.componentPort, httpPort: state.httpPort, archiveStorage: 'internal',
  });
  let config;
  try {
    config = loadConfig({
      PARLEY_LOG_LEVEL: 'info',
      PARLEY_LOG_FORMAT: 'pretty', // people read the demo's logs; PARLEY_LOG_FORMAT=json for the real thing
      ...process.env,
      PARLEY_DATA_DIR: dataDir,
      XMPP_DOMAIN: domain,
      XMPP_SERVICE: prosody.service,
      XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${prosody.componentPort}`,
      XMPP_ADMIN_JID: prosody.adminJid,
      XMPP_ADMIN_PASSWORD: prosody.adminPassword,
      XMPP_COMPONENT_SECRET: prosody.componentSecret,
    });
  } catch (err) {
    await prosody.stop();
    if (err instanceof ConfigError) { console.error(`parley demo: ${err.message}`); process.exit(2); }
    throw err;
  }
  const log = createLogger(config.logLevel, { format: config.logFormat });
  const parley = await startParley(config, log);
  const u = parley.url;
  console.log(`
  Parley is running (demo).
    Explorer (OpenAPI "try it"):  ${u}/docs
    Master secret:                ${parley.secret}${parley.secretGenerated ? '   (generated, kept in ' + join(dataDir, 'secret') + ')' : ''}
    XMPP server (Prosody):        ${prosody.service}  domain ${domain}
    Database:                     ${config.database.url ? config.database.url.replace(/:[^:@/]+@/, ':***@') : 'embedded PGlite in ' + join(dataDir, 'pgdata')}

  Log a user in (Parley creates the account on first use):
    curl -s -X POST -H 'Authorization: ${parley.secret}' ${u}/restapi/v1/chat/alice/login
  Then follow the events it returns:
    curl -N '<events URL>?token=<token>'

  Ctrl-C stops Parley and Prosody.
`);
  const stop = async () => {
    await parley.stop().catch((err) => log.error({ err }, 'stop failed'));
    await prosody.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => { console.error('parley demo failed:', err); process.exit(1); });
