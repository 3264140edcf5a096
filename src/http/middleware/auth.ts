import type { Context, Next } from 'koa';
import { BridgeError } from '../../errors/BridgeError.js';
import { timingSafeEqual } from 'node:crypto';
import { hashToken } from '../../crypto/tokens.js';

/**
 * Who is calling, from the Authorization header (or `?token=` on event streams, because
 * EventSource cannot set headers). Checked lazily by the routes: see access.ts.
 *  - master: `Authorization: <secret>` or `Bearer <secret>` (server-side apps only);
 *  - basic: `Basic user:password`, a user acting for themself;
 *  - token: `Bearer <session token>` from login, valid on its own stream only.
 */
export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'master' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'token'; token: string; hash: Buffer };

/** `secretHash`: the master secret's digest (hashToken), taken once by `authenticate`. */
export function parseAuthorization(
  header: string | undefined,
  secretHash: Buffer | undefined,
  queryToken?: string,
): Caller {
  const value = header?.trim() ?? '';
  if (!value)
    return queryToken
      ? { kind: 'token', token: queryToken, hash: hashToken(queryToken) }
      : { kind: 'anonymous' };
  const space = value.indexOf(' ');
  const scheme = space > 0 ? value.slice(0, space).toLowerCase() : '';
  const credential = space > 0 ? value.slice(space + 1).trim() : value;
  if (scheme === 'basic') {
    const decoded = Buffer.from(credential, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0)
      throw new BridgeError('BAD_CREDENTIALS', 'Basic credentials must be base64 of "username:password"');
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (scheme && scheme !== 'bearer')
    throw new BridgeError('BAD_CREDENTIALS', `unsupported authorization scheme "${scheme}"`);
  // ofchat clients send the master secret raw, without a scheme. Digests of equal length compare in
  // constant time; the credential's is the one the token lookup needs, so it is taken once.
  const hash = hashToken(credential);
  if (secretHash && timingSafeEqual(hash, secretHash)) return { kind: 'master' };
  return { kind: 'token', token: credential, hash };
}

/** `?token=` only where EventSource needs it: tokens in other URLs would end up in logs and histories. */
const EVENT_STREAM = /^\/(?:restapi\/v1\/chat\/[^/]+\/events|sse\/[^/]+)$/;

/**
 * Parses credentials lazily, on the route's first `callerOf(ctx)`, so a malformed Authorization
 * header fails only the routes that need credentials, never /healthz or /docs.
 */
export function authenticate(secret: string | undefined) {
  const secretHash = secret ? hashToken(secret) : undefined;
  return async function auth(ctx: Context, next: Next): Promise<void> {
    let caller: Caller | undefined;
    Object.defineProperty(ctx.state, 'caller', {
      enumerable: true,
      get: () => {
        if (!caller) {
          const q = EVENT_STREAM.test(ctx.path) ? ctx.query.token : undefined;
          caller = parseAuthorization(
            ctx.get('Authorization') || undefined,
            secretHash,
            typeof q === 'string' && q ? q : undefined,
          );
        }
        return caller;
      },
    });
    await next();
  };
}
