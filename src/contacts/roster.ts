/**
 * Pure mappers between roster items (RFC 6121 §2) and ofchat's RosterItemEntity JSON (no I/O).
 * References: RFC 6121 §2.1 (roster syntax), §2.1.2.5 (subscription values), §2.1.6 (roster push).
 */
import xml, { type Element } from '@xmpp/xml';
import { NS } from '../xmpp/ns.js';
import type { Show } from './presence.js';
import { normalizeJid } from '../xmpp/jid.js';

export type Subscription = 'none' | 'to' | 'from' | 'both' | 'remove';

/** ofchat's `subscriptionType` integers (Smack's RosterPacket.ItemType ordinal as ofchat exposed it). */
export const SUBSCRIPTION_TYPE: Record<Subscription, number> = {
  both: 3,
  from: 2,
  to: 1,
  none: 0,
  remove: -1,
};

/** A roster item as the server keeps it. */
export interface RosterItem {
  jid: string;
  name?: string;
  subscription: Subscription;
  /** RFC 6121 `ask="subscribe"`: our request to see their presence is pending */
  pending: boolean;
  groups: string[];
}

/** A contact as the REST API shows it: ofchat's fields plus `subscription` as a string and `pending`. */
export interface ContactItem {
  [key: string]: unknown;
  jid: string;
  nickname: string | null;
  groups: string[];
  subscription: Subscription;
  subscriptionType: number;
  pending: boolean;
  show: Show;
  status: string | null;
}

export const FAVORITES = 'Favorites';

const SUBSCRIPTIONS: readonly string[] = ['none', 'to', 'from', 'both', 'remove'];

export function parseRosterItem(el: Element): RosterItem | undefined {
  const jid = el.attrs.jid as string | undefined;
  if (!jid) return undefined;
  const sub = String(el.attrs.subscription ?? 'none');
  const groups = el
    .getChildren('group')
    .map((g) => g.text())
    .filter((g) => g !== '');
  return {
    jid: normalizeJid(jid),
    ...(el.attrs.name ? { name: String(el.attrs.name) } : {}),
    subscription: (SUBSCRIPTIONS.includes(sub) ? sub : 'none') as Subscription,
    pending: el.attrs.ask === 'subscribe',
    groups: [...new Set(groups)],
  };
}

/** Every item of a roster result or push (`<query xmlns="jabber:iq:roster">`). */
export function parseRosterQuery(query: Element | undefined): RosterItem[] {
  return (query?.getChildren('item') ?? []).flatMap((i) => parseRosterItem(i) ?? []);
}

export function toContact(item: RosterItem, live: { show: Show; status: string | null }): ContactItem {
  return {
    jid: item.jid,
    nickname: item.name ?? null,
    groups: item.groups,
    subscription: item.subscription,
    subscriptionType: SUBSCRIPTION_TYPE[item.subscription],
    pending: item.pending,
    show: live.show,
    status: live.status,
  };
}

/** Roster set that adds or updates an item (RFC 6121 §2.3, §2.4): the server replaces name and groups. */
export function buildRosterSet(jid: string, name: string | undefined, groups: string[]): Element {
  const item = xml('item', { jid, ...(name ? { name } : {}) }, ...groups.map((g) => xml('group', {}, g)));
  return xml('iq', { type: 'set' }, xml('query', { xmlns: NS.roster }, item));
}

/** Roster set that removes an item, which also cancels both subscriptions (RFC 6121 §2.5). */
export function buildRosterRemove(jid: string): Element {
  return xml(
    'iq',
    { type: 'set' },
    xml('query', { xmlns: NS.roster }, xml('item', { jid, subscription: 'remove' })),
  );
}

export function buildRosterGet(): Element {
  return xml('iq', { type: 'get' }, xml('query', { xmlns: NS.roster }));
}
