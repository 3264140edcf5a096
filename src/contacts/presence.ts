/**
 * Pure mappers between Parley's presence JSON and <presence/> stanzas (no I/O).
 * References: RFC 6121 §4 (presence), §3 (subscriptions); XEP-0172 (nickname in subscription requests).
 *
 * `show` uses ofchat's vocabulary: `available`, `away`, `chat`, `dnd`, `xa`, and `offline` for an
 * unavailable presence (ofchat's POST turned `offline` into type=unavailable; we use it both ways).
 */
import xml, { type Element } from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';
import { NS } from '../xmpp/ns.js';

/** XEP-0172 user nickname; not in xmpp/ns.ts because only subscription requests use it. */

export const SHOW_VALUES = ['available', 'away', 'chat', 'dnd', 'xa', 'offline'] as const;
export type Show = (typeof SHOW_VALUES)[number];

export const PRESENCE_TYPES = [
  'available',
  'unavailable',
  'subscribe',
  'subscribed',
  'unsubscribe',
  'unsubscribed',
  'error',
] as const;
export type PresenceType = (typeof PRESENCE_TYPES)[number];
/** Subscription traffic is a state change the user must see even after a reconnect: stored (durable). */
export const SUBSCRIPTION_TYPES: readonly PresenceType[] = [
  'subscribe',
  'subscribed',
  'unsubscribe',
  'unsubscribed',
];

export interface OwnPresence {
  show: Show;
  status: string | null;
  priority: number;
}
export const DEFAULT_PRESENCE: OwnPresence = { show: 'available', status: null, priority: 0 };

/** Payload of a `chatapi.presence` event (ofchat's shape plus the presence `type`). */
export interface PresenceEvent {
  [key: string]: unknown;
  type: PresenceType;
  from: string;
  to: string;
  show: Show;
  status: string | null;
  priority?: number;
  /** XEP-0172 nickname a subscription request carried */
  nick?: string;
  /** the error condition of a type=error presence */
  error?: string;
  /** only on the snapshot sent first on every stream (re)connect */
  snapshot?: true;
}

/** Query → own presence; an unknown show, an over-long status or a bad priority is a 400. */
export function parsePresenceQuery(q: { show?: unknown; status?: unknown; priority?: unknown }): OwnPresence {
  const show = one(q.show, 'show') ?? 'available';
  if (!(SHOW_VALUES as readonly string[]).includes(show)) {
    throw new BridgeError(
      'BAD_REQUEST',
      `show must be one of ${SHOW_VALUES.join(', ')}, not "${show.slice(0, 40)}"`,
    );
  }
  const status = one(q.status, 'status') ?? null;
  if (status !== null && status.length > 1024)
    throw new BridgeError('BAD_REQUEST', 'status is longer than 1024 characters');
  const rawPriority = one(q.priority, 'priority');
  const priority = rawPriority === undefined ? 0 : Number(rawPriority);
  if (!/^[+-]?\d{1,3}$/.test(rawPriority ?? '0') || priority < -128 || priority > 127) {
    throw new BridgeError('BAD_REQUEST', 'priority must be an integer from -128 to 127 (RFC 6121 §4.7.2.3)');
  }
  return { show: show as Show, status, priority };
}

function one(v: unknown, name: string): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new BridgeError('BAD_REQUEST', `give ${name} once`);
  return v;
}

/** The broadcast presence for the user's own session (no `to`). */
export function buildOwnPresence(p: OwnPresence): Element {
  const el = xml('presence', p.show === 'offline' ? { type: 'unavailable' } : {});
  if (p.show === 'offline') {
    if (p.status) el.append(xml('status', {}, p.status));
    return el;
  }
  if (p.show !== 'available') el.append(xml('show', {}, p.show));
  if (p.status) el.append(xml('status', {}, p.status));
  if (p.priority) el.append(xml('priority', {}, String(p.priority)));
  return el;
}

/** A <presence/> as a `chatapi.presence` payload; undefined for types Parley does not surface (probe). */
export function presenceEvent(el: Element, ownJid: string): PresenceEvent | undefined {
  const type = (el.attrs.type as string | undefined) ?? 'available';
  if (!(PRESENCE_TYPES as readonly string[]).includes(type)) return undefined;
  const showText = el.getChildText('show')?.trim();
  const show: Show =
    type === 'unavailable'
      ? 'offline'
      : showText && (SHOW_VALUES as readonly string[]).includes(showText) && showText !== 'offline'
        ? (showText as Show)
        : 'available';
  const event: PresenceEvent = {
    type: type as PresenceType,
    from: String(el.attrs.from ?? ''),
    // Addressed to the user: Prosody writes the bare JID on broadcast presence, ejabberd the receiving
    // resource, which names a Parley-internal session the API never exposes as an address.
    to: el.attrs.to ? String(el.attrs.to).split('/')[0]! : ownJid,
    show,
    status: el.getChildText('status') ?? null,
  };
  const priority = Number(el.getChildText('priority'));
  if (type === 'available' && el.getChild('priority') && Number.isInteger(priority))
    event.priority = priority;
  const nick = el.getChildText('nick', NS.nick);
  if (nick) event.nick = nick;
  if (type === 'error')
    event.error =
      el.getChild('error')?.children.find((c): c is Element => typeof c !== 'string')?.name ??
      'undefined-condition';
  return event;
}
