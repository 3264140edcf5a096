import type { Log } from '../log.js';
import type { Queryable } from '../store/db.js';
import type { OutboxStats } from './Metrics.js';

/**
 * Reading the callback outbox (`callback_outbox`, created by the callbacks feature's migration) for the
 * metrics and the admin CLI, without depending on that feature's code: the table may not exist yet (an
 * older schema, or a deployment without BBB), and its exact columns are the callbacks feature's to choose.
 * The shape is read from information_schema, and two conventions are understood:
 *  - timestamps: `delivered_at` / `dead_at` (or `dead_lettered_at`, `failed_at`) set when a row is done;
 *  - a `status` column: delivered = delivered|sent|done|succeeded, dead = dead|dead_letter|dead_lettered|failed.
 * Pending = neither delivered nor dead. Age comes from `created_at`.
 */
export const OUTBOX_TABLE = 'callback_outbox';

const DELIVERED_STATUSES = ['delivered', 'sent', 'done', 'succeeded'];
const DEAD_STATUSES = ['dead', 'dead_letter', 'dead_lettered', 'failed'];
const DEAD_AT = ['dead_at', 'dead_lettered_at', 'failed_at'];
const ATTEMPTS = ['attempts', 'attempt', 'attempt_count', 'tries'];
const NEXT_AT = ['next_attempt_at', 'next_attempt', 'next_retry_at', 'retry_at', 'due_at', 'not_before'];
/** A retry horizon set by the first attempt: cleared, so the replayed row gets a fresh one. */
const HORIZON = ['give_up_at', 'expires_at'];
/** Shown by `parley callbacks dead` when present, in this order. */
const LIST_COLUMNS = [
  'id',
  'url',
  'callback_url',
  'uri',
  'event',
  'kind',
  'status',
  'attempts',
  'last_error',
  'created_at',
  'dead_at',
  'updated_at',
];

export interface OutboxShape {
  /** SQL predicates over one row */
  pending: string;
  dead: string;
  createdAt?: string;
  /** SET clauses that put a dead row back in the queue, to be tried at once */
  requeue: string[];
  listColumns: string[];
}

const list = (values: string[]): string => values.map((v) => `'${v}'`).join(', ');

/** The SQL for a table with these columns; undefined when it follows neither convention. */
export function outboxShape(columns: ReadonlySet<string>): OutboxShape | undefined {
  if (!columns.has('id')) return undefined;
  const status = columns.has('status');
  const deadAt = DEAD_AT.find((c) => columns.has(c));
  const delivered = [
    columns.has('delivered_at') && 'delivered_at IS NOT NULL',
    status && `status IN (${list(DELIVERED_STATUSES)})`,
  ].filter(Boolean);
  const dead = [deadAt && `${deadAt} IS NOT NULL`, status && `status IN (${list(DEAD_STATUSES)})`].filter(
    Boolean,
  );
  if (dead.length === 0) return undefined;
  const deadSql = `coalesce(${dead.join(' OR ')}, false)`;
  const deliveredSql = delivered.length ? `coalesce(${delivered.join(' OR ')}, false)` : 'false';
  const attempts = ATTEMPTS.find((c) => columns.has(c));
  const nextAt = NEXT_AT.find((c) => columns.has(c));
  return {
    pending: `NOT (${deliveredSql} OR ${deadSql})`,
    dead: deadSql,
    createdAt: columns.has('created_at') ? 'created_at' : undefined,
    requeue: [
      ...(status ? ["status = 'pending'"] : []),
      ...(deadAt ? [`${deadAt} = NULL`] : []),
      ...(attempts ? [`${attempts} = 0`] : []),
      ...(nextAt ? [`${nextAt} = now()`] : []),
      ...HORIZON.filter((c) => columns.has(c)).map((c) => `${c} = NULL`),
    ],
    listColumns: LIST_COLUMNS.filter((c) => columns.has(c)),
  };
}

/** The table's columns, or undefined when it does not exist (in the connection's search path). */
export async function outboxColumns(db: Queryable): Promise<Set<string> | undefined> {
  const { rows } = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_name = $1 AND table_schema = ANY (current_schemas(false))`,
    [OUTBOX_TABLE],
  );
  return rows.length ? new Set(rows.map((r) => r.column_name)) : undefined;
}

/**
 * A probe for Metrics.watchOutbox: an absent table reads as an empty outbox (nothing can be waiting);
 * a table of unknown shape is logged once and reads as unknown (NaN gauges).
 */
export function createOutboxProbe(db: Queryable, log: Log): () => Promise<OutboxStats | undefined> {
  let shape: OutboxShape | undefined;
  let warned = false;
  return async () => {
    if (!shape) {
      const columns = await outboxColumns(db);
      if (!columns) return { depth: 0, oldestAgeSeconds: 0, dead: 0 };
      shape = outboxShape(columns);
      if (!shape) {
        if (!warned)
          log.warn(
            { table: OUTBOX_TABLE, columns: [...columns] },
            'callback outbox has an unknown shape; its gauges read NaN',
          );
        warned = true;
        return undefined;
      }
    }
    const age = shape.createdAt
      ? `coalesce(extract(epoch FROM now() - min(${shape.createdAt}) FILTER (WHERE ${shape.pending})), 0)`
      : '0';
    const { rows } = await db.query<{ depth: string; dead: string; age: string }>(
      `SELECT count(*) FILTER (WHERE ${shape.pending}) AS depth, count(*) FILTER (WHERE ${shape.dead}) AS dead, ${age} AS age
         FROM ${OUTBOX_TABLE}`,
    );
    const r = rows[0];
    return {
      depth: Number(r?.depth ?? 0),
      dead: Number(r?.dead ?? 0),
      oldestAgeSeconds: Number(r?.age ?? 0),
    };
  };
}
