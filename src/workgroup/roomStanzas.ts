/**
 * Pure builders and readers of the MUC stanzas the workgroup component sends and receives as the room's
 * creator (`<wg>@workgroup.<domain>/workgroup`) and as REST visitors' puppets. Components must name
 * their own `from`. Kept apart from src/rooms (the per-user rooms feature) on purpose: the component
 * is a different kind of occupant.
 * References: XEP-0045 §7.2 (join), §7.8.2 (mediated invitations), §10.1 (room configuration),
 * XEP-0142 §6.2.5 (invitation with `<offer/>`), XEP-0359 (stanza ids), XEP-0203 (delay).
 */
import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { NS } from '../xmpp/ns.js';
import { NS_WORKGROUP } from './xep0142.js';

export function joinRoom(from: string, room: string, nick: string, historyStanzas: number): Element {
  return xml(
    'presence',
    { from, to: `${room}/${nick}` },
    xml('x', { xmlns: NS.muc }, xml('history', { maxstanzas: String(historyStanzas) })),
  );
}

export function leaveRoom(from: string, room: string, nick: string): Element {
  return xml('presence', { from, to: `${room}/${nick}`, type: 'unavailable' });
}

const field = (name: string, value: string): Element => xml('field', { var: name }, xml('value', {}, value));

/** A hidden, temporary room named after the request: it goes away when the last occupant leaves. */
export function configureRoom(from: string, room: string, o: { name: string; description: string }): Element {
  return xml(
    'iq',
    { type: 'set', from, to: room },
    xml(
      'query',
      { xmlns: NS.mucOwner },
      xml(
        'x',
        { xmlns: NS.dataForms, type: 'submit' },
        field('FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'),
        field('muc#roomconfig_roomname', o.name),
        field('muc#roomconfig_roomdesc', o.description),
        field('muc#roomconfig_persistentroom', '0'),
        field('muc#roomconfig_publicroom', '0'),
      ),
    ),
  );
}

/**
 * A mediated invitation; for the agent it carries `<offer jid=user id=offer/>` (XEP-0142) so the agent
 * can match it to the offer. Prosody copies non-MUC children into the invitation it forwards.
 */
export function invite(
  from: string,
  room: string,
  invitee: string,
  reason: string,
  offer?: { userJid: string; offerId: string },
): Element {
  const msg = xml(
    'message',
    { from, to: room, id: randomUUID() },
    xml('x', { xmlns: NS.mucUser }, xml('invite', { to: invitee }, xml('reason', {}, reason))),
  );
  if (offer) msg.append(xml('offer', { xmlns: NS_WORKGROUP, jid: offer.userJid, id: offer.offerId }));
  return msg;
}

export function groupchat(from: string, room: string, body: string, data?: unknown): Element {
  const id = randomUUID();
  const msg = xml('message', { from, to: room, type: 'groupchat', id }, xml('body', {}, body));
  if (data !== undefined && data !== null)
    msg.append(xml('data', { xmlns: NS.parleyData }, JSON.stringify(data)));
  msg.append(xml('origin-id', { xmlns: NS.sid, id }));
  return msg;
}

export interface Occupant {
  room: string;
  nick: string;
  available: boolean;
  self: boolean;
  realJid?: string;
  codes: string[];
}

/** An occupant presence from a room; undefined for anything else. */
export function readOccupant(p: Element): Occupant | undefined {
  const from = String(p.attrs.from ?? '');
  const slash = from.indexOf('/');
  const x = p.getChild('x', NS.mucUser);
  if (slash < 0 || !x) return undefined;
  const codes = x.getChildren('status').map((s) => String(s.attrs.code ?? ''));
  const real = x.getChild('item')?.attrs.jid;
  return {
    room: from.slice(0, slash).toLowerCase(),
    nick: from.slice(slash + 1),
    available: p.attrs.type !== 'unavailable',
    self: codes.includes('110'),
    realJid: typeof real === 'string' && real ? real : undefined,
    codes,
  };
}

/** A mediated invitation as received (the room is its sender). */
export function readInvite(m: Element): { room: string; inviter: string; reason?: string } | undefined {
  const inv = m.getChild('x', NS.mucUser)?.getChild('invite');
  if (!inv) return undefined;
  const from = String(m.attrs.from ?? '');
  return {
    room: from.split('/')[0]!.toLowerCase(),
    inviter: String(inv.attrs.from ?? from),
    reason: inv.getChildText('reason') ?? undefined,
  };
}

export function readGroupchat(
  m: Element,
):
  | { room: string; nick?: string; body: string; data: unknown; stanzaId?: string; delayed?: Date }
  | undefined {
  if (m.attrs.type !== 'groupchat') return undefined;
  const body = m.getChildText('body');
  if (body === null || body === undefined) return undefined;
  const from = String(m.attrs.from ?? '');
  const slash = from.indexOf('/');
  const room = (slash < 0 ? from : from.slice(0, slash)).toLowerCase();
  const stamp = m.getChild('delay', NS.delay)?.attrs.stamp;
  const delayed = typeof stamp === 'string' ? new Date(stamp) : undefined;
  const sid = m.getChildren('stanza-id', NS.sid).find((s) => String(s.attrs.by ?? '').toLowerCase() === room)
    ?.attrs.id;
  const dataText = m.getChild('data', NS.parleyData)?.text();
  let data: unknown = null;
  if (dataText) {
    try {
      data = JSON.parse(dataText);
    } catch {
      data = null;
    }
  }
  return {
    room,
    nick: slash < 0 ? undefined : from.slice(slash + 1),
    body,
    data,
    stanzaId: typeof sid === 'string' ? sid : undefined,
    delayed: delayed && !Number.isNaN(delayed.getTime()) ? delayed : undefined,
  };
}
