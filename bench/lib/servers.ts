import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type RunningPostgres } from '../../tools/servers/postgres.js';
import { startProsody, type ProsodySql, type RunningProsody } from '../../tools/servers/prosody.js';

/** The secrets a tool's throw-away Prosody is started with, which its gateways then need too. */
export interface ProsodySecrets {
  adminPassword: string;
  componentSecret: string;
}

export const newProsodySecrets = (): ProsodySecrets => ({
  adminPassword: randomBytes(9).toString('base64url'),
  componentSecret: randomBytes(9).toString('hex'),
});

/** What the cost tools (bench/tools/*) start: a temp dir, one Prosody and one PostgreSQL, on loopback. */
export interface ToolServers extends ProsodySecrets {
  tmp: string;
  /** every user's password */
  password: string;
  prosody: RunningProsody;
  postgres: RunningPostgres;
}

export async function startToolServers(
  prefix: string,
  opts: { statStatements?: boolean } = {},
): Promise<ToolServers> {
  const tmp = await mkdtemp(join(tmpdir(), `parley-${prefix}-`));
  await chmod(tmp, 0o711); // the servers run as their own accounts and must reach their folders
  const secrets = newProsodySecrets();
  const [prosody, postgres] = await Promise.all([
    startProsody({ dir: join(tmp, 'prosody'), ...secrets, hibernationSeconds: 5 }),
    startPostgres({ dir: join(tmp, 'pg'), statStatements: opts.statStatements }),
  ]);
  return { tmp, password: `pw-${randomBytes(4).toString('hex')}`, ...secrets, prosody, postgres };
}

export async function createDatabase(postgres: RunningPostgres, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return postgres.adminUrl(name);
}

/** A database for Prosody's sql archive on the bench's cluster (the role `postgres`, trust on loopback). */
export async function prosodySqlDatabase(postgres: RunningPostgres): Promise<ProsodySql> {
  const database = 'prosody_archive';
  await createDatabase(postgres, database);
  return { driver: 'PostgreSQL', database, host: postgres.host, port: postgres.port, username: 'postgres' };
}

/**
 * A gateway's environment on these servers: its own database (created here), data folder and instance id,
 * a fresh PARLEY_SECRET, and the XMPP server's addresses and secrets.
 */
export async function gatewayEnv(
  s: { tmp: string; prosody: RunningProsody; postgres: RunningPostgres } & ProsodySecrets,
  name: string,
): Promise<Record<string, string>> {
  return {
    PARLEY_SECRET: randomBytes(18).toString('base64url'),
    DATABASE_URL: await createDatabase(s.postgres, name),
    PARLEY_DATA_DIR: join(s.tmp, `parley-${name}`),
    PARLEY_INSTANCE_ID: name,
    XMPP_DOMAIN: s.prosody.domain,
    XMPP_SERVICE: s.prosody.service,
    XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${s.prosody.componentPort}`,
    XMPP_ADMIN_JID: s.prosody.adminJid,
    XMPP_ADMIN_PASSWORD: s.adminPassword,
    XMPP_COMPONENT_SECRET: s.componentSecret,
  };
}
