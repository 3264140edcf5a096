import { AsyncLocalStorage } from 'node:async_hooks';
import { BlockList, isIP } from 'node:net';
import type { Context, Next } from 'koa';

/**
 * The client address that per-IP limits key on. X-Forwarded-For is believed only from the proxies the
 * operator named (PARLEY_TRUSTED_PROXIES): walking it from the right, the first address that is not a
 * trusted proxy is the client. A client talking to Parley directly cannot pick its own key with the header.
 */
export function trustedProxies(list: readonly string[]): BlockList {
  const b = new BlockList();
  for (const entry of list) {
    const [addr, bits] = entry.split('/');
    const family = isIP(addr ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(addr ?? '')) throw new Error(`PARLEY_TRUSTED_PROXIES: ${entry} is not an IP address or CIDR`);
    if (bits === undefined) b.addAddress(addr!, family);
    else b.addSubnet(addr!, Number(bits), family);
  }
  return b;
}

const unmapped = (a: string): string => (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a);

function trusted(list: BlockList, addr: string): boolean {
  const a = unmapped(addr);
  const family = isIP(a);
  return family !== 0 && list.check(a, family === 6 ? 'ipv6' : 'ipv4');
}

export function resolveClientIp(peer: string, forwardedFor: string | undefined, list: BlockList): string {
  let client = unmapped(peer);
  if (!forwardedFor || !trusted(list, peer)) return client;
  const hops = forwardedFor
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = unmapped(hops[i]!);
    if (!isIP(hop)) break; // garbage from the client side: stop at the last address we can vouch for
    client = hop;
    if (!trusted(list, hop)) break;
  }
  return client;
}

/**
 * Carried per request (AsyncLocalStorage, like the log context) so the password checks deep in the
 * session code can key on the caller's address without every route passing it down.
 */
const current = new AsyncLocalStorage<{ ip: string }>();

export function currentClientIp(): string | undefined {
  return current.getStore()?.ip;
}

export function clientAddress(list: BlockList) {
  return function clientIp(ctx: Context, next: Next): Promise<void> {
    const ip = resolveClientIp(
      ctx.req.socket.remoteAddress ?? '',
      ctx.get('X-Forwarded-For') || undefined,
      list,
    );
    ctx.state.clientIp = ip;
    return current.run({ ip }, next);
  };
}
