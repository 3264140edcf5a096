import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Server-side request forgery guard for callback URIs: a callback must not reach the gateway's own
 * network (loopback, private, link-local, CGNAT, multicast, reserved …) unless an operator allow-listed
 * the host, IP or CIDR in PARLEY_CALLBACK_ALLOW_HOSTS. Checked when a callback URI is registered and
 * again at every connection (DNS may answer differently the second time: rebinding).
 */
const REFUSED_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const REFUSED_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
];

function blockList(v4: [string, number][], v6: [string, number][]): BlockList {
  const list = new BlockList();
  for (const [net, bits] of v4) list.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of v6) list.addSubnet(net, bits, 'ipv6');
  return list;
}

const REFUSED = blockList(REFUSED_V4, REFUSED_V6);
const family = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

export class CallbackUrlError extends Error {
  override readonly name = 'CallbackUrlError';
}

/** PARLEY_CALLBACK_ALLOW_HOSTS: host names (exact), IP addresses and CIDR ranges. */
export class AddressPolicy {
  readonly #hosts = new Set<string>();
  readonly #allowed = new BlockList();

  constructor(allow: readonly string[] = []) {
    for (const raw of allow.map((a) => a.trim().toLowerCase()).filter(Boolean)) {
      const [net, bits] = raw.replace(/^\[|\]$/g, '').split('/') as [string, string | undefined];
      if (isIP(net) && bits !== undefined) this.#allowed.addSubnet(net, Number(bits), family(net));
      else if (isIP(net)) this.#allowed.addAddress(net, family(net));
      else this.#hosts.add(raw);
    }
  }

  hostAllowed(hostname: string): boolean {
    return this.#hosts.has(hostname.toLowerCase());
  }

  /** An address is fine when it is public, or allow-listed (IPv4-mapped IPv6 counts as its IPv4 address). */
  addressAllowed(address: string): boolean {
    if (!isIP(address)) return false;
    return !REFUSED.check(address, family(address)) || this.#allowed.check(address, family(address));
  }
}

type LookupAll = (host: string, cb: (err: Error | null, addresses: LookupAddress[]) => void) => void;
const lookupAll: LookupAll = (host, cb) => dnsLookup(host, { all: true, verbatim: true }, cb);

/** Why `addresses` of `hostname` may not be called, or undefined when they may. */
function refusal(hostname: string, addresses: string[], policy: AddressPolicy): string | undefined {
  if (policy.hostAllowed(hostname)) return undefined;
  const bad = addresses.find((a) => !policy.addressAllowed(a));
  if (!addresses.length) return `${hostname} does not resolve`;
  return bad
    ? `${hostname} resolves to ${bad}, a loopback, private, link-local or reserved address (allow it in PARLEY_CALLBACK_ALLOW_HOSTS)`
    : undefined;
}

/** Checks a callback URI at registration: http(s) only, and every address it names or resolves to is allowed. */
export async function checkCallbackUrl(
  raw: string,
  policy: AddressPolicy,
  resolve: LookupAll = lookupAll,
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CallbackUrlError(`"${raw.slice(0, 100)}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CallbackUrlError('a callback URI must be http or https');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await new Promise<string[]>((done) =>
        resolve(host, (err, list) => done(err ? [] : list.map((a) => a.address))),
      );
  const why = refusal(host, addresses, policy);
  if (why) throw new CallbackUrlError(`callback URI refused: ${why}`);
  return url;
}

/**
 * A `lookup` for http.request that applies the policy at connection time (the address actually
 * dialled). Node skips lookup for IP literals: deliver() checks those itself with checkCallbackUrl.
 */
export function guardedLookup(policy: AddressPolicy, resolve: LookupAll = lookupAll) {
  return (
    hostname: string,
    options: { all?: boolean },
    cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname, (err, list) => {
      if (err) return cb(err, '');
      const why = refusal(
        hostname,
        list.map((a) => a.address),
        policy,
      );
      if (why) return cb(new CallbackUrlError(`callback refused: ${why}`), '');
      if (options.all) return cb(null, list);
      cb(null, list[0]!.address, list[0]!.family);
    });
  };
}
