import { BlockList, isIP } from 'node:net';
import type { Context, Next } from 'koa';
import { withClientIp } from '../limits/clientIp.js';

/**
 * Who is on the other end of a request, as far as Parley can trust it: the socket's remote address,
 * or — only when that socket is a trusted proxy (PARLEY_TRUSTED_PROXIES) — the nearest address in
 * X-Forwarded-For that is not itself a trusted proxy. A header from anyone else is ignored, so a client
 * cannot claim to be on the operations network (PARLEY_OPS_ALLOW) by sending one.
 */

const unmapped = (a: string): string =>
  a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
const family = (a: string): 'ipv4' | 'ipv6' => (isIP(a) === 6 ? 'ipv6' : 'ipv4');

export function isAddressOrCidr(raw: string): boolean {
  const [net, bits, extra] = raw.replace(/^\[|\]$/g, '').split('/');
  if (extra !== undefined || !net || !isIP(net)) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (isIP(net) === 4 ? 32 : 128);
}

/** `a, b/24` → ['a', 'b/24']; `none` → []. */
export function parseAddressList(raw: string): string[] {
  if (raw.trim() === 'none') return [];
  return raw
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

/** A set of addresses and CIDR ranges; IPv4-mapped IPv6 addresses count as their IPv4 address. */
export class AddressSet {
  readonly #list = new BlockList();
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const [net, bits] = raw.replace(/^\[|\]$/g, '').split('/') as [string, string | undefined];
      if (bits !== undefined) this.#list.addSubnet(net, Number(bits), family(net));
      else this.#list.addAddress(net, family(net));
    }
  }
  // BlockList.check builds a SocketAddress per call, and every request asks about the same few addresses.
  readonly #answers = new Map<string, boolean>();
  has(address: string | undefined): boolean {
    if (!address) return false;
    let answer = this.#answers.get(address);
    if (answer === undefined) {
      const a = unmapped(address);
      answer = isIP(a) !== 0 && this.#list.check(a, family(a));
      if (this.#answers.size >= 1024) this.#answers.clear(); // X-Forwarded-For is the client's to fill
      this.#answers.set(address, answer);
    }
    return answer;
  }
}

/** The client's address from the socket's and the X-Forwarded-For chain (rightmost untrusted hop). */
export function clientAddressOf(
  socketAddress: string | undefined,
  forwardedFor: string | undefined,
  trusted: AddressSet,
): string {
  const peer = unmapped(socketAddress ?? '');
  if (!trusted.has(peer) || !forwardedFor) return peer;
  const hops = forwardedFor
    .split(',')
    .map((h) => unmapped(h.trim()))
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return ''; // garbage in the chain: trust none of it, and match no allow-list
    if (!trusted.has(hop)) return hop;
  }
  return hops[0] ?? peer;
}

export interface ClientNetwork {
  trustedProxies: AddressSet;
  opsAllow: AddressSet;
}

/** Sets ctx.state.clientAddress (cluster forwarding may replace it with the address its peer saw). */
export function clientAddress(net: ClientNetwork) {
  return async function clientAddressMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.state.clientAddress = clientAddressOf(
      ctx.req.socket.remoteAddress,
      ctx.get('X-Forwarded-For') || undefined,
      net.trustedProxies,
    );
    ctx.state.opsAllow = net.opsAllow;
    await withClientIp(ctx.state.clientAddress as string, next);
  };
}

/** True when the request comes from an address in PARLEY_OPS_ALLOW (loopback by default). */
export function fromOpsNetwork(ctx: Context): boolean {
  const allow = ctx.state.opsAllow as AddressSet | undefined;
  return allow !== undefined && allow.has(ctx.state.clientAddress as string | undefined);
}
