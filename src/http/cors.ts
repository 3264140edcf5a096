import cors from '@koa/cors';
import type { Context, Middleware } from 'koa';

/**
 * CORS for both faces and the event streams (PARLEY_CORS_ORIGINS), with @koa/cors. ofchat's CORSFilter
 * allowed credentials and the Authorization header on every answer; Parley does the same for the listed
 * origins, so a chat page embedded on another site can call the API and open an EventSource polyfill with
 * Basic credentials. `*` allows any origin but without credentials (a browser then never sends cached
 * Basic credentials from a page it does not trust). Preflights are answered before authentication.
 * Undefined for `none`: no CORS headers at all, as before.
 */
export function corsFor(origins: string[] | '*'): Middleware | undefined {
  if (origins !== '*' && origins.length === 0) return undefined;
  const allowed = origins === '*' ? undefined : new Set(origins);
  return cors({
    origin: (ctx: Context) => {
      const origin = ctx.get('Origin');
      if (!allowed) return '*';
      return allowed.has(origin) ? origin : '';
    },
    credentials: allowed !== undefined,
    allowMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'],
    // What EventSource polyfills and fetch clients send: credentials, JSON or text bodies, replay cursors.
    allowHeaders: [
      'Authorization',
      'Content-Type',
      'Accept',
      'Last-Event-ID',
      'Cache-Control',
      'X-Request-Id',
      'X-Requested-With',
      'Prefer',
    ],
    exposeHeaders: ['X-Request-Id', 'X-Parley-Token', 'Location', 'Retry-After', 'Preference-Applied'],
    maxAge: 600,
  });
}
