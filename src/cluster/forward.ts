import type { Context } from 'koa';
import { BridgeError } from '../errors/BridgeError.js';
import { rawBodyOf } from '../http/body.js';
import type { InstanceInfo } from './InstanceRegistry.js';

/** Marks a request one instance passed to another, so it is never passed on again (no loops). */
export const FORWARDED_HEADER = 'x-parley-forwarded-by';

const PASS_REQUEST = ['authorization', 'content-type', 'accept', 'x-request-id', 'last-event-id'];
const PASS_RESPONSE = [
  'content-type',
  'retry-after',
  'location',
  'x-parley-token',
  'www-authenticate',
  'allow',
];

export const wasForwarded = (ctx: Context): boolean => ctx.get(FORWARDED_HEADER) !== '';

/**
 * Hands a REST call to the instance that holds the XMPP session it needs and relays the answer.
 * The body is re-sent as the client sent it (koa-body keeps the raw JSON; text bodies are strings).
 */
export async function forwardTo(ctx: Context, target: InstanceInfo, selfId: string): Promise<void> {
  const headers: Record<string, string> = { [FORWARDED_HEADER]: selfId };
  for (const h of PASS_REQUEST) {
    const v = ctx.get(h);
    if (v) headers[h] = v;
  }
  const raw = rawBodyOf(ctx);
  const body = raw !== undefined && raw !== '' ? raw : undefined;
  let res: Response;
  try {
    res = await fetch(new URL(ctx.originalUrl, target.url), {
      method: ctx.method,
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new BridgeError(
      'XMPP_UNAVAILABLE',
      `the gateway instance holding this session (${target.id}) does not answer`,
      { cause: err, retryAfter: 2 },
    );
  }
  ctx.status = res.status;
  for (const h of PASS_RESPONSE) {
    const v = res.headers.get(h);
    if (v) ctx.set(h, v);
  }
  const buf = Buffer.from(await res.arrayBuffer());
  ctx.body = buf.length ? buf : null;
  if (!buf.length && res.status === 204) ctx.body = null;
}
