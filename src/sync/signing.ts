import { createHash, createHmac } from 'node:crypto';
import { safeEqual } from '../crypto/tokens.js';
import { BridgeError } from '../errors/BridgeError.js';

/**
 * Calls between a site and its host are signed like the cluster's forwarded calls (src/cluster/forward.ts):
 * `<unix seconds>.<hex HMAC-SHA256>` under the calling site's key (siteKey below) over the time, the calling
 * site, method, path with query and the body's SHA-256, accepted within ±60 s. A replayed call within that minute changes
 * nothing: every call is idempotent (messages are deduplicated by id, files by their id at the origin).
 */
export const SYNC_AUTH_HEADER = 'x-parley-sync-auth';
/** the calling site's XMPP domain (its identity: it may only send messages from users of that domain) */
export const SYNC_SITE_HEADER = 'x-parley-sync-site';
/** hex SHA-256 of the body (of the file, for a file upload: checked after it is received) */
export const SYNC_DIGEST_HEADER = 'x-parley-sync-sha256';
const SKEW_SECONDS = 60;

/**
 * A site's own key, derived one-way from the host's PARLEY_SYNC_KEY: each site holds only its own, so a
 * compromised site cannot sign as another. The same with openssl (docs/site-sync.md):
 * `printf '%s' "parley sync site <domain>" | openssl dgst -sha256 -hmac "$HOST_KEY" -r | cut -d' ' -f1`
 */
export const siteKey = (hostKey: string, site: string): string =>
  createHmac('sha256', hostKey).update(`parley sync site ${site}`).digest('hex');

export const sha256Hex = (body: string | Buffer): string => createHash('sha256').update(body).digest('hex');

const mac = (key: string, parts: string[]): string =>
  createHmac('sha256', key).update(parts.join('\n')).digest('hex');

export interface SignedCall {
  method: string;
  /** path and query, as sent */
  url: string;
  site: string;
  digest: string;
}

/** On a site: `key` is its own key (siteKey of the host's). */
export function signHeaders(key: string, call: SignedCall, now = Date.now()): Record<string, string> {
  const ts = String(Math.floor(now / 1000));
  return {
    [SYNC_SITE_HEADER]: call.site,
    [SYNC_DIGEST_HEADER]: call.digest,
    [SYNC_AUTH_HEADER]: `${ts}.${mac(key, [ts, call.site, call.method.toUpperCase(), call.url, call.digest])}`,
  };
}

/**
 * On the host: 403 unless `auth` signs this call under the calling site's key (derived from the host's `key`)
 * within the last minute; the site must be one of `sites`.
 */
export function verifySigned(
  hostKey: string,
  auth: string,
  call: SignedCall,
  sites: readonly string[],
  now = Date.now(),
): void {
  const [ts = '', got = ''] = auth.split('.');
  const age = Math.abs(now / 1000 - Number(ts));
  const expected = mac(siteKey(hostKey, call.site), [
    ts,
    call.site,
    call.method.toUpperCase(),
    call.url,
    call.digest,
  ]);
  if (!/^\d+$/.test(ts) || !(age <= SKEW_SECONDS) || !safeEqual(got, expected))
    throw new BridgeError('FORBIDDEN', 'site sync calls need a valid signature (PARLEY_SYNC_KEY)');
  if (!sites.includes(call.site))
    throw new BridgeError('FORBIDDEN', `${call.site} is not a site of this host (PARLEY_SYNC_SITES)`);
}
