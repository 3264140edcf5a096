/**
 * How a user of the other deployment is addressed here: as a JID of the sync component, with the user's
 * home JID escaped into the local part (XEP-0106, as XMPP gateways do): `alice@site.example` is
 * `alice\40site.example@sync.host.example` on the host. Native clients and Parley users write to that
 * address; the component carries the message home. Each user keeps one identity, the JID at home.
 *   https://xmpp.org/extensions/xep-0106.html
 */
import { bareJid } from '../xmpp/jid.js';

const ESCAPES: Record<string, string> = {
  ' ': '\\20',
  '"': '\\22',
  '&': '\\26',
  "'": '\\27',
  '/': '\\2f',
  ':': '\\3a',
  '<': '\\3c',
  '>': '\\3e',
  '@': '\\40',
  '\\': '\\5c',
};

export function escapeLocal(s: string): string {
  return [...s].map((c) => ESCAPES[c] ?? c).join('');
}

export function unescapeLocal(s: string): string {
  return s.replace(/\\(20|22|26|27|2f|3a|3c|3e|40|5c)/gi, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** `alice@site.example` → `alice\40site.example@<component>` */
export const proxyJid = (remoteBare: string, component: string): string =>
  `${escapeLocal(bareJid(remoteBare))}@${component}`;

/** The home JID behind a component address, or undefined when `jid` is not one (or names no user). */
export function homeJid(jid: string, component: string): string | undefined {
  const bare = bareJid(jid);
  const at = bare.lastIndexOf('@');
  if (at < 0 || bare.slice(at + 1) !== component) return undefined;
  const home = unescapeLocal(bare.slice(0, at));
  return /^[^@/\s]+@[a-z0-9.-]+$/i.test(home) ? home.toLowerCase() : undefined;
}

export const domainOf = (bare: string): string => bare.slice(bare.lastIndexOf('@') + 1);
