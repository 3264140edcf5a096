import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Log } from '../log.js';

/**
 * Embedded Postgres for the demo: PGlite (Postgres compiled to WASM) with its data in the data dir,
 * served over the wire protocol on a loopback port so the same `pg` code talks to it.
 * PGlite runs one statement at a time and blocks other connections while a transaction is open,
 * so callers must use a pool of one connection (see DESIGN.md §5).
 */
export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string, log: Log): Promise<EmbeddedPostgres> {
  const dir = join(dataDir, 'pgdata');
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const addr = (server as unknown as { server?: { address(): { port: number } } }).server?.address();
  const port = addr?.port;
  if (!port) {
    await server.stop();
    await db.close();
    throw new Error('embedded Postgres did not report its port');
  }
  log.info({ dir, port }, 'embedded Postgres (PGlite) started');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
