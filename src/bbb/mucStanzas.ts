/**
 * The MUC stanzas the bbb.<domain> component sends on behalf of BBB participants, and the readers for
 * what the room sends back (pure, no I/O). A component must stamp `from` itself.
 * References: XEP-0045 §7.2 (join, self-presence 110, 201 room created), §7.14 (exit), §10.1.3 (owner
 * configuration), §10.9 (destroy); XEP-0004 data forms; XEP-0203 delay; XEP-0359 stanza ids.
 */
import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { NS } from '../xmpp/ns.js';

const ROOM_CONFIG_FORM = 'http://jabber.org/protocol/muc#roomconfig';

export function joinPresence(from: string, occupant: string): Element {
  // No history: the room's backlog is not BBB's to repeat.
  return xml(
    'presence',
    { from, to: occupant, id: randomUUID() },
    xml('x', { xmlns: NS.muc }, xml('history', { maxstanzas: '0' })),
  );
}

export function leavePresence(from: string, occupant: string): Element {
  return xml('presence', { from, to: occupant, type: 'unavailable', id: randomUUID() });
}

export function groupchat(from: string, room: string, body: string): Element {
  const id = randomUUID();
  return xml(
    'message',
    { from, to: room, type: 'groupchat', id },
    xml('body', {}, body),
    xml('origin-id', { xmlns: NS.sid, id }),
  );
}

const field = (name: string, value: string): Element => xml('field', { var: name }, xml('value', {}, value));

/** Names the room after its meeting; not persistent, so it goes away once the bridge and everyone left. */
export function configureRoom(from: string, room: string, o: { name: string; description: string }): Element {
  const form = xml(
    'x',
    { xmlns: NS.dataForms, type: 'submit' },
    field('FORM_TYPE', ROOM_CONFIG_FORM),
    field('muc#roomconfig_roomname', o.name),
    field('muc#roomconfig_roomdesc', o.description),
    field('muc#roomconfig_persistentroom', '0'),
  );
  return xml('iq', { type: 'set', from, to: room }, xml('query', { xmlns: NS.mucOwner }, form));
}

export function destroyRoom(from: string, room: string, reason: string): Element {
  return xml(
    'iq',
    { type: 'set', from, to: room },
    xml('query', { xmlns: NS.mucOwner }, xml('destroy', {}, xml('reason', {}, reason))),
  );
}

/** What a presence from a room tells about one of our occupants (`to`). */
export interface RoomPresence {
  room: string;
  nick: string;
  to: string;
  kind: 'joined' | 'left' | 'error' | 'other';
  /** status 201: this join created the room */
  created: boolean;
  condition?: string;
}

export function readRoomPresence(el: Element): RoomPresence {
  const from = String(el.attrs.from ?? '');
  const slash = from.indexOf('/');
  const base = {
    room: (slash >= 0 ? from.slice(0, slash) : from).toLowerCase(),
    nick: slash >= 0 ? from.slice(slash + 1) : '',
    to: String(el.attrs.to ?? ''),
  };
  if (el.attrs.type === 'error') {
    const condition = el
      .getChild('error')
      ?.children.find((c): c is Element => typeof c !== 'string' && c.attrs.xmlns === NS.stanzas)?.name;
    return { ...base, kind: 'error', created: false, condition: condition ?? 'undefined-condition' };
  }
  const codes = (el.getChild('x', NS.mucUser)?.getChildren('status') ?? []).map((s) => String(s.attrs.code));
  if (!codes.includes('110')) return { ...base, kind: 'other', created: false };
  return {
    ...base,
    kind: el.attrs.type === 'unavailable' ? 'left' : 'joined',
    created: codes.includes('201'),
  };
}

/** A room message worth forwarding: groupchat with a body, live (no XEP-0203 delay: that is history). */
export function readRoomMessage(
  el: Element,
): { room: string; nick: string; body: string; source: string } | undefined {
  if (el.attrs.type !== 'groupchat' || el.getChild('delay', NS.delay)) return undefined;
  const body = el.getChildText('body');
  const from = String(el.attrs.from ?? '');
  const slash = from.indexOf('/');
  if (!body || slash < 0) return undefined;
  const room = from.slice(0, slash).toLowerCase();
  const stanzaId = el
    .getChildren('stanza-id', NS.sid)
    .find((s) => String(s.attrs.by ?? '').toLowerCase() === room)?.attrs.id;
  return { room, nick: from.slice(slash + 1), body, source: String(stanzaId ?? el.attrs.id ?? randomUUID()) };
}
