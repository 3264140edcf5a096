import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { rig } from './rig.js';

/**
 * Per-test-file databases cloned from the migrated template: schema-identical, isolated, and
 * cheap (a file copy instead of re-running migrations).
 */

async function asAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: rig.postgres.url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates `t_<random>` from the template and returns its connection URL. */
export async function freshDatabase(): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await asAdmin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${rig.templateDb}`));
  return rig.postgres.adminUrl(name);
}

/** Best effort: drops the database behind `url`, disconnecting any pool a test left open. */
export async function dropDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!/^t_[0-9a-f]+$/.test(name)) return; // only ever drop what freshDatabase() made
  await asAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
}
