import type pg from 'pg';
import type { StoreMetrics, StoreOperation } from './Metrics.js';

/**
 * Which store operation a statement is, by its SQL; undefined for statements not worth a histogram.
 * The three kinds are written by several features (chat's MessageStore, rooms' RoomStore, the event hub),
 * so classifying at the pool times them all without each store knowing about metrics.
 */
export function classifyQuery(text: string): StoreOperation | undefined {
  const head = text.trimStart().slice(0, 32);
  if (/^INSERT\s+INTO\s+events\b/i.test(head)) return 'event_insert';
  if (/^INSERT\s+INTO\s+messages\b/i.test(head)) return 'message_insert';
  // One statement writing a message row and its event (chat/messageInsert.ts), or marking a message and
  // storing the receipt event (MessageStore.receipt): data-modifying CTEs, so they start with WITH.
  if (/^WITH\b/i.test(head)) {
    if (/\bINSERT\s+INTO\s+messages\b/i.test(text)) return 'message_insert';
    if (/\bINSERT\s+INTO\s+events\b/i.test(text)) return 'event_insert';
  }
  // EventStore.after(): `SELECT … FROM events WHERE username = $1 AND id > $2 ORDER BY id LIMIT $3`
  if (/^SELECT\b/i.test(head) && /\bFROM\s+events\s+WHERE\s+username\s*=\s*\$1\s+AND\s+id\s*>/i.test(text))
    return 'event_replay';
  return undefined;
}

type Query = (...args: unknown[]) => unknown;

/**
 * Times the classified statements on every connection the pool opens: transaction clients call
 * `client.query()` for a promise, and `pool.query()` calls it with a callback, so both forms are timed
 * (the promise returned is the driver's own, untouched; the callback is called with the driver's own
 * arguments). Submittables (cursors) pass through unobserved. node-postgres has no query hook, so this
 * wraps `client.query` on the instance, once, when the pool connects it.
 */
export function instrumentPool(pool: pg.Pool, metrics: StoreMetrics): void {
  pool.on('connect', (client) => {
    const original = client.query as unknown as Query;
    const timed: Query = function (this: unknown, ...args) {
      const first = args[0] as string | { text?: unknown } | undefined;
      const text =
        typeof first === 'string' ? first : typeof first?.text === 'string' ? first.text : undefined;
      const operation = text === undefined ? undefined : classifyQuery(text);
      if (!operation) return original.apply(this, args);
      const start = process.hrtime.bigint();
      const done = (): void => metrics.query(operation, Number(process.hrtime.bigint() - start) / 1e9);
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = function (this: unknown, ...results: unknown[]) {
          done();
          return callback.apply(this, results);
        };
        return original.apply(this, args);
      }
      const result = original.apply(this, args);
      if (result instanceof Promise) result.then(done, done);
      return result;
    };
    (client as unknown as { query: Query }).query = timed;
  });
}
