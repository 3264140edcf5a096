import type { Context, Next } from 'koa';
import { BridgeError } from '../../errors/BridgeError.js';
import { specFor } from '../../errors/codes.js';
import { fromDatabaseError } from '../../errors/fromDatabaseError.js';
import { toProblem } from '../../errors/problem.js';
import type { Log } from '../../log.js';

/** Errors thrown by Koa's own layers (body parser, ctx.throw) arrive as http-errors with a status. */
function fromHttpError(err: { status?: number; type?: string; message?: string }): BridgeError | undefined {
  switch (err.status) {
    case 413:
      return new BridgeError('BODY_TOO_LARGE', 'the request body exceeds the size limit');
    case 415:
      return new BridgeError('UNSUPPORTED_MEDIA_TYPE', err.message);
    case 400:
      return err.type === 'entity.parse.failed'
        ? new BridgeError('INVALID_JSON', `the body is not valid JSON: ${err.message}`)
        : new BridgeError('BAD_REQUEST', err.message);
    case 401:
      return new BridgeError('UNAUTHENTICATED', err.message);
    case 403:
      return new BridgeError('FORBIDDEN', err.message);
    case 404:
      return new BridgeError('NOT_FOUND', err.message);
    case 405:
      return new BridgeError('METHOD_NOT_ALLOWED', err.message);
    case 501:
      return new BridgeError('METHOD_NOT_IMPLEMENTED', err.message);
    default:
      return undefined;
  }
}

/** Any thrown value as a row of the error table: ours as is, the database's outages as 503, the rest 500. */
export function toBridgeError(raw: unknown): BridgeError {
  return (
    fromDatabaseError(raw) ??
    (raw instanceof BridgeError
      ? raw
      : (fromHttpError(raw as { status?: number }) ?? new BridgeError('INTERNAL', undefined, { cause: raw })))
  );
}

/** Backpressure answers are load, not faults: counted by parley_send_refused_total, logged in summary. */
export const SUMMARIZED: ReadonlySet<string> = new Set(['XMPP_BACKLOG', 'GATEWAY_BUSY']);
const SUMMARY_EVERY_MS = 10_000;

/**
 * One warning for the first refusal, then at most one every SUMMARY_EVERY_MS with how many there were:
 * past the knee a gateway refuses a thousand sends a second, and a line each (a write to stdout apiece)
 * cost more than answering them.
 */
export function refusalSummary(log: Log, now: () => number = () => performance.now()) {
  let since = -Infinity;
  let count = 0;
  return (code: string, message: string): void => {
    count++;
    const t = now();
    if (t - since < SUMMARY_EVERY_MS) return;
    log.warn(
      { code, refused: count },
      `${message} (sends refused by backpressure since the last such line: ${count})`,
    );
    since = t;
    count = 0;
  };
}

export function errorHandler(log: Log) {
  const refused = refusalSummary(log);
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      // The router answers unmatched paths and methods with a bare status (and Allow); give them a problem body.
      if (ctx.body === undefined && ctx.respond !== false) {
        if (ctx.status === 404) throw new BridgeError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
        if (ctx.status === 405)
          throw new BridgeError(
            'METHOD_NOT_ALLOWED',
            `${ctx.method} is not allowed here; allowed: ${ctx.response.get('Allow')}`,
          );
        if (ctx.status === 501)
          throw new BridgeError('METHOD_NOT_IMPLEMENTED', `Parley does not implement ${ctx.method}`);
      }
    } catch (raw) {
      const err = toBridgeError(raw);
      const requestId = ctx.state.requestId as string | undefined;
      // A 503 is an outage the operator sees on /readyz and in one line each, not a stack per request.
      if (SUMMARIZED.has(err.code)) refused(err.code, err.message);
      else if (err.status === 503) log.warn({ code: err.code, requestId, path: ctx.path }, err.message);
      else if (err.status >= 500)
        log.error({ err: err.extra.cause ?? err, requestId, path: ctx.path }, 'request failed');
      if (ctx.respond === false || ctx.headerSent) return; // an SSE stream already started; nothing to answer
      ctx.status = err.status;
      ctx.type = 'application/problem+json';
      ctx.body = toProblem(err, requestId);
      const retryAfter = err.extra.retryAfter ?? specFor(err.code).retryAfter;
      if (retryAfter) ctx.set('Retry-After', String(retryAfter));
      if (err.status === 401) ctx.set('WWW-Authenticate', 'Basic realm="parley", Bearer');
    }
  };
}
