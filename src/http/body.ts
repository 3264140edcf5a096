import type { Context, Middleware } from 'koa';
import { koaBody } from 'koa-body';
import type { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';

/** Uploads stream their body to disk themselves (src/attachments, src/sync), under their own limit. */
const STREAMED_UPLOAD = /^\/restapi\/v1\/chat\/[^/]+\/files$/;
const STREAMED_SYNC_FILE = /^\/restapi\/v1\/sync\/peer\/files\/[^/]+$/;
const streamed = (method: string, path: string): boolean =>
  (method === 'POST' && STREAMED_UPLOAD.test(path)) || (method === 'PUT' && STREAMED_SYNC_FILE.test(path));

/** Body parsing for routes that take a body: JSON or text, capped at PARLEY_MAX_BODY_BYTES (413 beyond). */
export function bodyParser(maxBytes: number): Middleware {
  const parse = koaBody({
    json: true,
    text: true,
    urlencoded: false,
    multipart: false,
    jsonStrict: false,
    // XML is read as text (for raw stanzas); readBody() still refuses it unless the route opts in.
    textTypes: ['text/*', 'application/xml', 'application/*+xml'],
    jsonLimit: maxBytes,
    textLimit: maxBytes,
    includeUnparsed: true,
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'] as never,
    onError: (err, ctx) => {
      throw parseError(err as Error & { status?: number }, ctx, maxBytes);
    },
  });
  return (ctx, next) => (streamed(ctx.method, ctx.path) ? next() : parse(ctx, next));
}

function parseError(err: Error & { status?: number }, ctx: Context, maxBytes: number): BridgeError {
  if (err.status === 413)
    return new BridgeError('BODY_TOO_LARGE', `the request body exceeds the ${maxBytes}-byte limit`);
  if (err.status === 415) return new BridgeError('UNSUPPORTED_MEDIA_TYPE', err.message);
  if (ctx.is('application/json', 'application/*+json'))
    return new BridgeError('INVALID_JSON', `the body is not valid JSON: ${err.message}`);
  return new BridgeError('BAD_REQUEST', `the body could not be read: ${err.message}`);
}

export type RequestBody =
  { kind: 'none' } | { kind: 'text'; text: string } | { kind: 'json'; value: unknown; raw: string };

/**
 * What the client sent, by content type; a body of any other type is a 415, not silently ignored.
 * `xml: true` (raw stanza routes) also takes application/xml and application/*+xml, as text.
 */
export function readBody(ctx: Context, opts: { xml?: boolean } = {}): RequestBody {
  const req = ctx.request as unknown as { body?: unknown };
  const length = Number(ctx.get('Content-Length') || 0);
  const hasBody = length > 0 || ctx.get('Transfer-Encoding') !== '';
  if (!hasBody) return { kind: 'none' };
  if (ctx.is('application/json', 'application/*+json')) {
    const raw = rawBodyOf(ctx) ?? JSON.stringify(req.body);
    return { kind: 'json', value: req.body, raw };
  }
  if (ctx.is('text/*') || (opts.xml && ctx.is('application/xml', 'application/*+xml'))) {
    return { kind: 'text', text: typeof req.body === 'string' ? req.body : '' };
  }
  throw new BridgeError(
    'UNSUPPORTED_MEDIA_TYPE',
    `send application/json or text/plain, not ${ctx.get('Content-Type') || 'an untyped body'}`,
  );
}

/** zod → VALIDATION_FAILED with one entry per problem (unknown fields included). */
export function validate<T>(schema: z.ZodType<T>, value: unknown, where = 'body'): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message:
      i.code === 'unrecognized_keys'
        ? `unknown field(s): ${(i as { keys: string[] }).keys.join(', ')}`
        : i.message,
  }));
  throw new BridgeError('VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    errors,
  });
}

/** The body exactly as the client sent it (koa-body keeps it with includeUnparsed), for JSON and text. */
export function rawBodyOf(ctx: Context): string | undefined {
  const raw = (ctx.request as unknown as { rawBody?: unknown }).rawBody;
  return typeof raw === 'string' ? raw : undefined;
}
