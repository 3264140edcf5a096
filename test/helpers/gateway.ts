import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/loadConfig.js';
import { createLogger } from '../../src/log.js';
import { startParley, type RunningParley } from '../../src/startParley.js';
import { rig } from '../rig/rig.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';

export interface TestGateway {
  url: string;
  secret: string;
  parley: RunningParley;
  dbUrl: string;
  stop(): Promise<void>;
}

/**
 * A real Parley wired to the rig's Prosody and PostgreSQL (a fresh database per gateway), listening
 * on a free loopback port. `env` overrides any variable, exactly as an operator would set it.
 */
export async function startGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const dbUrl = env.DATABASE_URL ?? (await freshDatabase());
  const dataDir = await mkdtemp(join(rig.tmp, 'gw-'));
  const config = loadConfig({
    PARLEY_PORT: '0',
    PARLEY_SECRET: randomBytes(18).toString('base64url'),
    PARLEY_DATA_DIR: dataDir,
    PARLEY_INSTANCE_ID: `test-${randomBytes(4).toString('hex')}`,
    XMPP_DOMAIN: rig.xmpp.domain,
    XMPP_SERVICE: rig.xmpp.service,
    XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${rig.xmpp.componentPort}`,
    XMPP_ADMIN_JID: rig.xmpp.adminJid,
    XMPP_ADMIN_PASSWORD: rig.xmpp.adminPassword,
    XMPP_COMPONENT_SECRET: rig.xmpp.componentSecret,
    XMPP_RECONNECT_MAX_SECONDS: '2',
    DATABASE_URL: dbUrl,
    REDIS_URL: rig.redis.url,
    PARLEY_LOG_LEVEL: process.env.PARLEY_TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const parley = await startParley(config, createLogger(config.logLevel));
  return {
    url: parley.url,
    secret: parley.secret,
    parley,
    dbUrl,
    async stop() {
      await parley.stop();
      if (!env.DATABASE_URL) await dropDatabase(dbUrl);
    },
  };
}
