import type { Context } from 'koa';
import type { Log } from '../../log.js';
import { fromDatabaseError } from '../../errors/fromDatabaseError.js';
import { CallbackUrlError } from '../../callbacks/ssrf.js';
import { BbbLinkDown } from '../BbbLink.js';
import { epochNow, verifyChecksum, type Params } from '../checksum.js';
import { NotPostable } from '../Forwarder.js';
import { UnknownChat } from '../BbbBridge.js';

/**
 * The BBB-Chat side of the HTTP edge. These routes answer BBB-Chat's own `{success, message}` JSON (not
 * problem+json) because existing BBB-Chat clients read it; failures the common edge raises before a
 * route runs (a JSON body that does not parse, a body over PARLEY_MAX_BODY_BYTES) stay problem+json.
 */
export class BbbApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface AuthDeps {
  /** undefined: the bridge is off (no BBB_SECRET) and every call answers 501 */
  secret?: string;
  windowSeconds: number;
  firstUse: (checksum: string, ttlSeconds: number) => Promise<boolean>;
  log: Log;
}

/** BBB-Chat calls are small; a larger body is refused before it is parsed or hashed. */
export const MAX_CALL_BYTES = 64 * 1024;

/** The body as sent, whatever its Content-Type (BBB-Chat's Python clients send none, or a form type). */
async function rawBody(ctx: Context): Promise<string> {
  // koa-body (includeUnparsed) keeps the text of a JSON or text body it parsed as request.rawBody.
  const { body: parsed, rawBody } = ctx.request as unknown as { body?: unknown; rawBody?: unknown };
  if (typeof rawBody === 'string') return rawBody;
  if (typeof parsed === 'string') return parsed;
  if (ctx.req.readableEnded) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CALL_BYTES)
      throw new BbbApiError(413, `The request body exceeds ${MAX_CALL_BYTES} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The JSON object the client sent; key order is kept (v1 checksums depend on it). */
export async function readParams(ctx: Context): Promise<Params> {
  const raw = await rawBody(ctx);
  if (Buffer.byteLength(raw) > MAX_CALL_BYTES)
    throw new BbbApiError(413, `The request body exceeds ${MAX_CALL_BYTES} bytes.`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new BbbApiError(400, 'The body is not valid JSON.');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new BbbApiError(400, 'The body must be a JSON object.');
  return value as Params;
}

/**
 * Checks the checksum of a call (v1 or RCP, salted with the call name) and that it has not been used
 * before. `params` loses its `checksum` key, as BBB-Chat removed it before hashing.
 */
export async function verifyCall(
  deps: AuthDeps,
  scheme: 'v1' | 'rcp',
  name: string,
  params: Params,
): Promise<Params> {
  const { checksum, ...rest } = params;
  if (typeof checksum !== 'string' || !checksum) throw new BbbApiError(401, 'No checksum was given.');
  let ok: boolean;
  try {
    ok = verifyChecksum({
      scheme,
      name,
      params: rest,
      checksum,
      secret: deps.secret!,
      now: epochNow(),
      delta: deps.windowSeconds,
    });
  } catch {
    ok = false; // a parameter RCP cannot format (a list or an object)
  }
  if (!ok)
    throw new BbbApiError(
      401,
      'Checksum is not valid (wrong secret, altered parameters, or a clock outside the time window).',
    );
  // Long enough to outlive every epoch the checksum could still verify at.
  if (!(await deps.firstUse(checksum, 2 * deps.windowSeconds + 2)))
    throw new BbbApiError(401, 'This checksum was already used.');
  return rest;
}

/** A required string parameter of at most `max` characters. */
export function need(p: Params, key: string, max: number): string {
  const v = p[key];
  if (typeof v !== 'string' || !v) throw new BbbApiError(400, `Parameter ${key} is missing or not a string.`);
  if (v.length > max) throw new BbbApiError(400, `Parameter ${key} is longer than ${max} characters.`);
  return v;
}

export function optional(p: Params, key: string, max: number): string | undefined {
  return p[key] === undefined || p[key] === null || p[key] === '' ? undefined : need(p, key, max);
}

/** What a call answers: a message (200), a message with another status, or (runningChats) a body of its own. */
export type CallResult = string | { status: number; message: string } | { json: Record<string, unknown> };

/** Runs a call and answers `{success, message}` with the status that fits. */
export async function answer(ctx: Context, deps: AuthDeps, fn: () => Promise<CallResult>): Promise<void> {
  let out: CallResult;
  try {
    if (!deps.secret)
      throw new BbbApiError(
        501,
        'The BigBlueButton bridge is not enabled on this gateway (BBB_SECRET is not set).',
      );
    out = await fn();
  } catch (err) {
    out = toReply(err, deps.log);
  }
  if (typeof out === 'string') out = { status: 200, message: out };
  if ('json' in out) {
    ctx.body = out.json;
    return;
  }
  ctx.status = out.status;
  ctx.body = { success: out.status < 400, message: out.message };
  if (out.status === 503) ctx.set('Retry-After', '5');
}

function toReply(err: unknown, log: Log): { status: number; message: string } {
  if (err instanceof BbbApiError) return { status: err.status, message: err.message };
  if (err instanceof UnknownChat || err instanceof NotPostable) return { status: 404, message: err.message };
  if (err instanceof CallbackUrlError) return { status: 400, message: err.message };
  if (err instanceof BbbLinkDown)
    return { status: 503, message: 'BigBlueButton (Redis) is not reachable right now; retry shortly.' };
  if (fromDatabaseError(err))
    return { status: 503, message: 'The database is not reachable right now; retry shortly.' };
  log.error({ err }, 'BBB API call failed');
  return { status: 500, message: 'Internal error.' };
}
