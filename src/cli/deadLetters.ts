import type { Queryable } from '../store/db.js';
import { OUTBOX_TABLE, outboxColumns, outboxShape, type OutboxShape } from '../metrics/callbackOutbox.js';
import { CliError } from './GatewayClient.js';

/**
 * Dead-lettered callbacks, straight from the `callback_outbox` table (the callbacks feature has no admin
 * API yet; when it has one, these two functions should call it instead). Replaying puts a row back in the
 * queue — pending, attempts reset, due now — and the dispatcher's next poll delivers it.
 */

async function shapeOf(db: Queryable): Promise<OutboxShape | undefined> {
  const columns = await outboxColumns(db);
  if (!columns) return undefined;
  const shape = outboxShape(columns);
  if (!shape)
    throw new CliError(
      `${OUTBOX_TABLE} has columns this CLI does not understand: ${[...columns].join(', ')}`,
    );
  return shape;
}

/** undefined when the table does not exist (the callbacks migration has not run on this database). */
export async function listDeadLetters(
  db: Queryable,
  limit: number,
): Promise<Record<string, unknown>[] | undefined> {
  const shape = await shapeOf(db);
  if (!shape) return undefined;
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT ${shape.listColumns.map((c) => `"${c}"`).join(', ')} FROM ${OUTBOX_TABLE} WHERE ${shape.dead} ORDER BY id LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Requeues the given dead rows (all of them when `ids` is 'all'); returns the ids requeued. */
export async function replayDeadLetters(db: Queryable, ids: string[] | 'all'): Promise<string[]> {
  const shape = await shapeOf(db);
  if (!shape) throw new CliError(`this database has no ${OUTBOX_TABLE} table: nothing to replay`);
  if (shape.requeue.length === 0)
    throw new CliError(`${OUTBOX_TABLE} has no column this CLI knows how to reset`);
  const which = ids === 'all' ? '' : 'AND id::text = ANY ($1::text[])';
  const { rows } = await db.query<{ id: unknown }>(
    `UPDATE ${OUTBOX_TABLE} SET ${shape.requeue.join(', ')} WHERE ${shape.dead} ${which} RETURNING id`,
    ids === 'all' ? [] : [ids],
  );
  return rows.map((r) => String(r.id));
}
