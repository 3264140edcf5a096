import type { Context, Next } from 'koa';
import type { HttpMetrics } from './Metrics.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** The label for requests no route matched (404, 405): never the raw URL, whose cardinality is unbounded. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * Koa middleware: one observation per request, labelled with the route template of the @koa/router layer
 * that answered (`ctx._matchedRoute`, e.g. `/restapi/v1/chat/:streamid/events`) and the status class.
 * Mount it outside the error handler, so failures are observed with the status the client got. SSE streams
 * are observed when they are open (the handler returns then), with the status written on the socket.
 */
export function httpMetrics(metrics: HttpMetrics) {
  return async function observeRequest(ctx: Context, next: Next): Promise<void> {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const matched = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
      const route = typeof matched === 'string' ? matched : UNMATCHED_ROUTE;
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      metrics.request(METHODS.has(ctx.method) ? ctx.method : 'OTHER', route, status, seconds);
    }
  };
}
