import pg from 'pg';
import type { Log } from '../log.js';

export type Pool = pg.Pool;
export type Queryable = Pick<pg.Pool, 'query'>;

export interface Database {
  pool: pg.Pool;
  /** true when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function createPool(url: string, max: number, log: Log): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // The hot statements are named (prepared once per connection). The embedded database is one server
    // session behind every socket, so a fresh client would find its names taken by the previous client's
    // (42P05 "prepared statement already exists"): every connection starts with none.
    onConnect: async (client) => {
      await client.query('DEALLOCATE ALL');
    },
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
  return pool;
}

export function databaseFrom(pool: pg.Pool, onClose: () => Promise<void> = async () => {}): Database {
  return {
    pool,
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await pool.end();
      await onClose();
    },
  };
}

/**
 * Runs `fn` in a transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it throws.
 * `fn` must use `tx` only — awaiting another pool query inside deadlocks the embedded database and
 * can exhaust a real pool under load (DESIGN.md §5).
 */
/**
 * Runs `fn` on one checked-out connection and gives it back. pg-pool removes its own 'error' listener
 * while a client is checked out, so a connection that dies between two statements (a restart, a
 * failover: 57P01 arrives with no query running) would emit 'error' with no listener — an uncaught
 * exception that ends the process. Record it instead: the next statement fails with it, and the broken
 * client is discarded, not pooled. `broken()` tells `fn` whether the connection is still usable.
 */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, broken: () => boolean) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    return await fn(client, () => broken !== undefined);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

export async function withTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client, broken) => {
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      if (!broken()) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}
