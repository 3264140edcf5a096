import type { Queryable } from '../store/db.js';
import { listDeadCallbacks, replayDeadCallbacks, type DeadLetter } from '../callbacks/CallbackOutbox.js';
import { CliError } from './GatewayClient.js';

/**
 * `parley callbacks --db`: dead-lettered callbacks straight from the database, for when the gateway is
 * down, through the callbacks feature's own queries (the same ones its admin API runs).
 */

const UNDEFINED_TABLE = '42P01';

async function outbox<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if ((err as { code?: string }).code === UNDEFINED_TABLE)
      throw new CliError('this database has no callback outbox: start the gateway on it once to migrate it');
    throw err;
  }
}

export function listDeadLetters(db: Queryable, limit: number): Promise<DeadLetter[]> {
  return outbox(() => listDeadCallbacks(db, { limit }));
}

/** Requeues the given dead rows, or all of them: the ids requeued, or the count for `all`. */
export async function replayDeadLetters(db: Queryable, ids: string[] | 'all'): Promise<string[] | number> {
  if (ids === 'all') return outbox(() => replayDeadCallbacks(db, {}));
  const replayed: string[] = [];
  for (const id of ids) {
    if (/^[0-9]{1,18}$/.test(id) && (await outbox(() => replayDeadCallbacks(db, { id })))) replayed.push(id);
  }
  return replayed;
}
