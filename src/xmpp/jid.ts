import { BridgeError } from '../errors/BridgeError.js';

/**
 * JIDs from URLs and bodies (RFC 7622), checked at the edge. A bare username means a user of our
 * own domain, as ofchat allowed (`/messages/bob` → bob@domain). Local and domain parts are
 * case-folded; the resource keeps its case. Not a full PRECIS implementation: it refuses what
 * the RFC forbids (the excluded characters in the localpart, empty parts, over-long parts).
 */
export interface Jid {
  local?: string;
  domain: string;
  resource?: string;
  bare: string;
  full: string;
}

// RFC 7622 §3.3.1 excludes these; a backslash is allowed (XEP-0106 escapes such as `alice\40site.example`
// address users behind gateways, site sync's component among them).
const LOCAL_FORBIDDEN = /[\s"&'/:<>@]/u;
const DOMAIN = /^(?=.{1,253}$)[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)*$|^\[[0-9a-f:.]+\]$/iu;

export function parseJid(raw: string, defaultDomain: string, what = 'JID'): Jid {
  const input = raw.trim().normalize('NFC');
  const fail = (why: string): never => {
    throw new BridgeError('INVALID_JID', `"${raw.slice(0, 120)}" is not a valid ${what}: ${why}`);
  };
  if (!input) fail('empty');
  const slash = input.indexOf('/');
  const resource = slash >= 0 ? input.slice(slash + 1) : undefined;
  const rest = slash >= 0 ? input.slice(0, slash) : input;
  const at = rest.lastIndexOf('@');
  let local = at >= 0 ? rest.slice(0, at) : undefined;
  let domain = at >= 0 ? rest.slice(at + 1) : rest;
  if (at < 0 && !domain.includes('.') && domain !== defaultDomain) {
    local = domain;
    domain = defaultDomain;
  }
  if (local !== undefined) {
    if (!local || Buffer.byteLength(local) > 1023) fail('the local part must be 1–1023 bytes');
    if (LOCAL_FORBIDDEN.test(local!)) fail('the local part contains a forbidden character');
    local = local!.toLowerCase();
  }
  if (!DOMAIN.test(domain)) fail('bad domain part');
  domain = domain.toLowerCase().replace(/\.$/, '');
  if (resource !== undefined && (!resource || Buffer.byteLength(resource) > 1023))
    fail('the resource must be 1–1023 bytes');
  const bare = local ? `${local}@${domain}` : domain;
  return { local, domain, resource, bare, full: resource ? `${bare}/${resource}` : bare };
}

/**
 * The one way to compare JIDs that come off the wire (stanza `from`/`to`, stored peers). The resource
 * starts at the first `/` (RFC 7622 §3.1: neither localpart nor domainpart may hold one). Localpart
 * and domainpart are lower-cased, as nodeprep/nameprep (and PRECIS) fold ASCII, and a trailing dot of
 * the domain is dropped; the resource keeps its case, since it is compared exactly.
 */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return (slash < 0 ? jid : jid.slice(0, slash)).toLowerCase().replace(/\.$/, '');
}

/** The resource of a full JID (a MUC occupant's nick), or undefined for a bare JID. */
export function resourceOf(jid: string): string | undefined {
  const slash = jid.indexOf('/');
  return slash < 0 ? undefined : jid.slice(slash + 1);
}

/** The domainpart, normalised as bareJid does. */
export function domainOf(jid: string): string {
  const bare = bareJid(jid);
  return bare.slice(bare.lastIndexOf('@') + 1);
}

/** The localpart, normalised as bareJid does; undefined for a service JID. */
export function localOf(jid: string): string | undefined {
  const bare = bareJid(jid);
  const at = bare.lastIndexOf('@');
  return at < 0 ? undefined : bare.slice(0, at);
}

/** A full or bare JID with its bare part normalised and its resource as it came. */
export function normalizeJid(jid: string): string {
  const resource = resourceOf(jid);
  return resource === undefined ? bareJid(jid) : `${bareJid(jid)}/${resource}`;
}
