import { createHash, createHmac } from 'node:crypto';
import type { Context } from 'koa';
import { BridgeError } from '../errors/BridgeError.js';
import { safeEqual } from '../crypto/tokens.js';
import { rawBodyOf } from '../http/body.js';
import type { InstanceInfo } from './InstanceRegistry.js';

/** Marks a request one instance passed to another, so it is never passed on again (no loops). */
export const FORWARDED_HEADER = 'x-parley-forwarded-by';
/**
 * `<unix seconds>.<hex HMAC>` over the time, the forwarding instance, method, path and query, client address,
 * Authorization and body: a captured call cannot be replayed with other credentials or another body.
 */
export const CLUSTER_AUTH_HEADER = 'x-parley-cluster-auth';
/** The client address the forwarding instance saw (covered by the HMAC), for the ops-network check. */
export const CLIENT_ADDRESS_HEADER = 'x-parley-client-address';
/** How far a forwarded call's timestamp may be from this instance's clock. */
const SKEW_SECONDS = 60;

const PASS_REQUEST = ['authorization', 'content-type', 'accept', 'x-request-id', 'last-event-id'];
const PASS_RESPONSE = [
  'content-type',
  'retry-after',
  'location',
  'x-parley-token',
  'www-authenticate',
  'allow',
];

export const wasForwarded = (ctx: Context): boolean =>
  ctx.get(FORWARDED_HEADER) !== '' || ctx.get(CLUSTER_AUTH_HEADER) !== '';

/** The cluster key when PARLEY_CLUSTER_KEY is unset: derived one-way from the master secret all instances share. */
export const deriveClusterKey = (secret: string): string =>
  createHmac('sha256', secret).update('parley cluster key v1').digest('base64url');

const digest = (v: string): string => createHash('sha256').update(v).digest('hex');

/** What a forwarded call's signature covers, read the same way on both ends. */
function signed(ctx: Context, ts: string, from: string, client: string): string[] {
  return [
    ts,
    from,
    ctx.method,
    ctx.url,
    client,
    digest(ctx.get('authorization')),
    digest(rawBodyOf(ctx) ?? ''),
  ];
}

function sign(key: string, parts: string[]): string {
  return createHmac('sha256', key).update(parts.join('\n')).digest('hex');
}

/**
 * A call another instance passed here must carry a valid HMAC under the shared cluster key, made within
 * the last minute; else 403. Returns the client address the peer vouches for.
 */
export function verifyForwarded(ctx: Context, key: string): string {
  const [ts = '', mac = ''] = ctx.get(CLUSTER_AUTH_HEADER).split('.');
  const age = Math.abs(Date.now() / 1000 - Number(ts));
  const client = ctx.get(CLIENT_ADDRESS_HEADER);
  const expected = sign(key, signed(ctx, ts, ctx.get(FORWARDED_HEADER), client));
  if (!/^\d+$/.test(ts) || !(age <= SKEW_SECONDS) || !safeEqual(mac, expected))
    throw new BridgeError(
      'FORBIDDEN',
      'calls between gateway instances need a valid cluster signature (PARLEY_CLUSTER_KEY)',
    );
  return client;
}

/**
 * Hands a REST call to the instance that holds the XMPP session it needs and relays the answer.
 * The target URL is the peer's base with this request's path and query only (never the request line's
 * host, so an absolute-form request cannot aim it elsewhere); redirects are not followed.
 * The body is re-sent as the client sent it (koa-body keeps the raw JSON; text bodies are strings).
 */
export async function forwardTo(
  ctx: Context,
  target: InstanceInfo,
  self: { id: string; clusterKey: string },
): Promise<void> {
  const url = new URL(target.url);
  url.pathname = ctx.path;
  url.search = ctx.querystring ? `?${ctx.querystring}` : '';
  // The URL parser resolves dot segments and re-encodes: a path it changes is not the one that was routed.
  if (url.pathname !== ctx.path || `${url.pathname}${url.search}` !== ctx.url)
    throw new BridgeError('BAD_REQUEST', 'the request path is not in normal form');
  const ts = String(Math.floor(Date.now() / 1000));
  const client = String(ctx.state.clientAddress ?? '');
  const headers: Record<string, string> = {
    [FORWARDED_HEADER]: self.id,
    [CLIENT_ADDRESS_HEADER]: client,
    [CLUSTER_AUTH_HEADER]: `${ts}.${sign(self.clusterKey, signed(ctx, ts, self.id, client))}`,
  };
  for (const h of PASS_REQUEST) {
    const v = ctx.get(h);
    if (v) headers[h] = v;
  }
  const raw = rawBodyOf(ctx);
  const body = raw !== undefined && raw !== '' ? raw : undefined;
  let res: Response;
  try {
    res = await fetch(url, {
      method: ctx.method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new BridgeError(
      'XMPP_UNAVAILABLE',
      `the gateway instance holding this session (${target.id}) does not answer`,
      { cause: err, retryAfter: 2 },
    );
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    // A Parley instance never redirects these calls: whatever answers so is not a working peer.
    throw new BridgeError(
      'XMPP_UNAVAILABLE',
      `the gateway instance holding this session (${target.id}) answered with a redirect (not followed)`,
      { retryAfter: 2 },
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
