import type { Context, Middleware } from 'koa';
import { koaBody } from 'koa-body';
import coBody from 'co-body';
import type { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';

/** Uploads stream their body to disk themselves (src/attachments, src/sync), under their own limit. */
const STREAMED_UPLOAD = /^\/restapi\/v1\/chat\/[^/]+\/files$/;
const STREAMED_SYNC_FILE = /^\/restapi\/v1\/sync\/peer\/files\/[^/]+$/;
const streamed = (method: string, path: string): boolean =>
  (method === 'POST' && STREAMED_UPLOAD.test(path)) || (method === 'PUT' && STREAMED_SYNC_FILE.test(path));

/**
 * Where ofchat reads the body as text whatever its Content-Type (OpenfireConnection.sendChatMessage,
 * sendRoomMessage, AskService.sendAssistMessage): 1:1 and room posts and the visitor's room post.
 * readBody() then applies ofchat's rule to the text (see ofchatText). Both faces: a body is never lost to
 * a wrong label.
 */
const TEXT_BODY: [string, RegExp][] = [
  ['POST', /^\/restapi\/v1\/chat\/[^/]+\/messages\/[^/]+$/],
  ['POST', /^\/restapi\/v1\/chat\/[^/]+\/rooms\/[^/]+$/],
  ['PUT', /^\/restapi\/v1\/ask\/[^/]+$/],
];

/** How a route's body is read: `message` (ofchat's text rule) or `plain` (the text as sent, any type). */
export type TextBodyMode = 'message' | 'plain';

/** Body parsing for routes that take a body: JSON or text, capped at PARLEY_MAX_BODY_BYTES (413 beyond). */
export function bodyParser(maxBytes: number): Middleware {
  const readText = async (ctx: Context, mode: TextBodyMode): Promise<void> => {
    let text: string;
    try {
      text = (await coBody.text(ctx, { limit: maxBytes, encoding: 'utf8' })) as string;
    } catch (err) {
      throw parseError(err as Error & { status?: number }, ctx, maxBytes);
    }
    const req = ctx.request as unknown as { body?: unknown; rawBody?: string };
    req.body = text;
    req.rawBody = text;
    ctx.state.textBody = mode;
  };
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
  return async (ctx, next) => {
    if (streamed(ctx.method, ctx.path)) return next();
    // A face may ask for the text as sent (the ofchat face's login: the password, whatever the label).
    const mode: TextBodyMode | undefined =
      (ctx.state.textBody as TextBodyMode | undefined) ??
      (TEXT_BODY.some(([m, re]) => m === ctx.method && re.test(ctx.path)) ? 'message' : undefined);
    if (!mode) return parse(ctx, next);
    await readText(ctx, mode);
    return next();
  };
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
  const mode = ctx.state.textBody as TextBodyMode | undefined;
  if (mode) {
    const text = typeof req.body === 'string' ? req.body : '';
    if (text === '') return { kind: 'none' };
    return mode === 'plain'
      ? { kind: 'text', text }
      : ofchatText(text, ctx.is('application/json', 'application/*+json') !== false);
  }
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

/**
 * ofchat's rule for a message body read as text (OpenfireConnection.sendChatMessage / sendRoomMessage):
 * a JSON object whose `body` is a string is that message, and the whole object travels as `data`;
 * anything else is sent as the text it is — a plain word or `encodeURIComponent(json)` labelled
 * application/json included, never refused and never lost. Labelled JSON, an object without `body` stays
 * JSON (Parley's own rules then apply: attachments, a subject change, or a precise 400).
 */
export function ofchatText(text: string, labelledJson: boolean): RequestBody {
  const t = text.trim();
  if (t.startsWith('{') && t.endsWith('}')) {
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch {
      return { kind: 'text', text };
    }
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    if (isObject && (labelledJson || typeof (value as { body?: unknown }).body === 'string'))
      return { kind: 'json', value, raw: text };
  }
  return { kind: 'text', text };
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
