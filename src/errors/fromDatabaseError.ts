import { BridgeError } from './BridgeError.js';

/**
 * The database direction of the error table: which driver failures mean "the database is not reachable
 * right now" (an outage, a restart, a full pool) rather than "this statement is wrong". Those answer
 * 503 DATABASE_UNAVAILABLE with Retry-After, so clients retry instead of reporting a bug; everything else
 * stays an internal error.
 *
 * References: PostgreSQL error codes (class 08 connection exception, 53300 too_many_connections,
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now),
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */

/** SQLSTATEs the server sends when it ends or refuses a connection. */
const SQLSTATE = /^(?:08[0-9A-Z]{3}|53300|57P0[1-3])$/;

/** Socket failures seen by node-postgres (connect, or a connection reset under a running query). */
const SOCKET = /^(?:ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/;

/**
 * node-postgres and pg-pool raise these as plain Errors without a code. The embedded database
 * (PGlite behind @electric-sql/pglite-socket) fails the same way: a closed socket server refuses
 * (ECONNREFUSED), a dropped handler surfaces as "Connection terminated unexpectedly".
 */
const DRIVER_MESSAGE =
  /^(?:Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect|Cannot use a pool after calling end on the pool)/;

const RETRY_AFTER_SECONDS = 5;

function isUnavailableOne(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (SQLSTATE.test(code) || SOCKET.test(code))) return true;
  return typeof message === 'string' && DRIVER_MESSAGE.test(message);
}

/** True when `err`, or an error it wraps (`cause`, AggregateError), says the database is unreachable. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (depth > 5 || typeof err !== 'object' || err === null) return false;
  // A feature may have wrapped the driver's error as INTERNAL; any other code is a decision already made.
  if (err instanceof BridgeError && err.code !== 'INTERNAL') return err.code === 'DATABASE_UNAVAILABLE';
  if (isUnavailableOne(err)) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isDatabaseUnavailable(e, depth + 1)))
    return true;
  return isDatabaseUnavailable((err as { cause?: unknown }).cause, depth + 1);
}

/** A connection-level database failure as the 503 the table gives it; undefined for any other error. */
export function fromDatabaseError(err: unknown): BridgeError | undefined {
  if (err instanceof BridgeError && err.code === 'DATABASE_UNAVAILABLE') return err;
  if (!isDatabaseUnavailable(err)) return undefined;
  return new BridgeError('DATABASE_UNAVAILABLE', 'the database is not reachable right now; retry shortly', {
    cause: err,
    retryAfter: RETRY_AFTER_SECONDS,
  });
}
