import type pg from 'pg';
import { withClient, type Queryable } from './db.js';

/** Where statement timings go (the metrics module's StoreMetrics fits); absent in tools and unit tests. */
export interface StatementObserver {
  /** one statement sent to the server and answered (or failed) after `seconds` */
  statement(name: string, seconds: number): void;
}

/**
 * A statement the code names: `name` labels its timing and, with `prepared`, is the server-side
 * prepared statement (parsed and planned once per connection — worth it on the hot path only).
 */
export interface Statement {
  name: string;
  text: string;
  prepared?: boolean;
  /** how this statement's columns are parsed, where the defaults (pg.types) cost more than the reader needs */
  types?: pg.CustomTypesConfig;
}

/**
 * The pool as the stores that want their statements timed use it: every statement goes through run()
 * by name, so the metrics see what the code says it sends (no guessing from SQL text) and round trips
 * can be counted exactly, transaction control included.
 */
export class TimedDb {
  constructor(
    readonly pool: pg.Pool,
    private readonly observer?: StatementObserver,
  ) {}

  /** One round trip: `via` is a transaction's client when the statement belongs to one. */
  async run<R extends pg.QueryResultRow>(
    stmt: Statement,
    values: readonly unknown[] = [],
    via: Queryable = this.pool,
  ): Promise<pg.QueryResult<R>> {
    const start = process.hrtime.bigint();
    try {
      const query: pg.QueryConfig = stmt.prepared
        ? { name: `parley-${stmt.name}`, text: stmt.text, values: [...values] }
        : { text: stmt.text, values: [...values] };
      if (stmt.types) query.types = stmt.types;
      return await via.query<R>(query);
    } finally {
      this.observer?.statement(stmt.name, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  /**
   * Runs `fn` in a transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it throws.
   * `fn` must use `tx` only — awaiting another pool query inside deadlocks the embedded database and can
   * exhaust a real pool under load (DESIGN.md §5).
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return withClient(this.pool, async (client, broken) => {
      try {
        await this.run(BEGIN, [], client);
        const out = await fn(client);
        await this.run(COMMIT, [], client);
        return out;
      } catch (err) {
        if (!broken()) await this.run(ROLLBACK, [], client).catch(() => undefined);
        throw err;
      }
    });
  }
}

const BEGIN: Statement = { name: 'begin', text: 'BEGIN' };
const COMMIT: Statement = { name: 'commit', text: 'COMMIT' };
const ROLLBACK: Statement = { name: 'rollback', text: 'ROLLBACK' };
