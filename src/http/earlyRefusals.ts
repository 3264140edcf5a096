import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { BridgeError } from '../errors/BridgeError.js';
import { specFor } from '../errors/codes.js';
import { toProblem } from '../errors/problem.js';
import type { Log } from '../log.js';
import type { HttpMetrics } from '../metrics/Metrics.js';
import { refusalSummary, SUMMARIZED } from './middleware/errorHandler.js';
import { requestIdFrom } from './middleware/requestId.js';
import type { SendDoor } from './middleware/shedSends.js';

export interface EarlyRefusalDeps {
  door: SendDoor;
  metrics: HttpMetrics;
  log: Log;
  /** PARLEY_CORS_ORIGINS is set: a browser's request (with Origin) goes through Koa for its CORS headers */
  cors: boolean;
  /** shutdown began: Koa answers every request (503 SHUTTING_DOWN, event streams dropped) */
  isStopping?: () => boolean;
}

/**
 * The server's request listener in front of Koa: a send that the door refuses (shedSends.ts: the session or
 * the instance is behind, or past the adaptive bound on sends in progress) is answered here, with the body
 * and headers the error handler gives it (problem+json, Retry-After, X-Request-Id) and observed by the same
 * request metrics, before Koa builds a context for it. Past the knee most requests are refusals: through
 * Koa and its outer middleware each cost the gateway ~200 µs of the CPU the accepted sends needed, here
 * ~100–130 µs, little more than Node's parser (bench/JOURNAL.md, "Refusals before Koa"). Everything else, and every send let through, goes
 * on to `next` unchanged, where shedSends asks the same door again and holds the send's place.
 */
export function withEarlyRefusals(next: RequestListener, deps: EarlyRefusalDeps): RequestListener {
  const summary = refusalSummary(deps.log);
  return (req, res) => {
    const refusal = refusalOf(req, deps);
    if (!refusal) return next(req, res);
    answer(req, res, refusal, deps, summary);
  };
}

function refusalOf(
  req: IncomingMessage,
  deps: EarlyRefusalDeps,
): { err: BridgeError; route: string } | undefined {
  const url = req.url;
  if (req.method !== 'POST' || !url?.startsWith('/')) return undefined;
  if ((deps.cors && req.headers.origin !== undefined) || deps.isStopping?.()) return undefined;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const send = deps.door.find('POST', path);
  if (!send) return undefined;
  try {
    deps.door.check(send);
    deps.door.remember(req, path, send); // let through: shedSends takes it from here without matching again
    return undefined;
  } catch (err) {
    // anything but a refusal is Koa's to answer (its error handler logs it), as if this listener were not there
    return err instanceof BridgeError ? { err, route: send.route } : undefined;
  }
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  { err, route }: { err: BridgeError; route: string },
  deps: EarlyRefusalDeps,
  summary: ReturnType<typeof refusalSummary>,
): void {
  const start = process.hrtime.bigint();
  if (SUMMARIZED.has(err.code)) summary(err.code, err.message);
  const requestId = requestIdFrom(req.headers['x-request-id']);
  const body = JSON.stringify(toProblem(err, requestId));
  const headers: Record<string, string | number> = {
    'X-Request-Id': requestId,
    'Content-Type': 'application/problem+json',
    'Content-Length': Buffer.byteLength(body),
  };
  const retryAfter = err.extra.retryAfter ?? specFor(err.code).retryAfter;
  if (retryAfter) headers['Retry-After'] = String(retryAfter);
  if (deps.cors) headers.Vary = 'Origin'; // as @koa/cors answers a request without one
  res.writeHead(err.status, headers);
  res.end(body);
  deps.metrics.request('POST', route, err.status, Number(process.hrtime.bigint() - start) / 1e9);
}
