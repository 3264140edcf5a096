/**
 * Pure readers of what a room sends to the occupants a component puppets (workgroup, BBB bridge).
 * References: XEP-0045 §7.2.2/§7.2.3 (occupant presence, status 110 self and 201 created), §7.8.2
 * (mediated invitations as received), §7.2.15 (history, XEP-0203 delay); XEP-0359 (stanza ids).
 */
import type { Element } from '@xmpp/xml';
import { bareJid, resourceOf } from '../jid.js';
import { NS } from '../ns.js';

/** An occupant's presence from a room, as the occupant it is addressed to (`to`) sees it. */
export interface OccupantPresence {
  /** the room's bare JID, normalised */
  room: string;
  nick: string;
  to: string;
  available: boolean;
  /** status 110: this presence is about the occupant it is addressed to */
  self: boolean;
  /** status 201: this join created the room */
  created: boolean;
  realJid?: string;
  codes: string[];
  /** the condition of a refused join (a `type="error"` presence) */
  error?: string;
}

/**
 * A presence from a room occupant (`room/nick`): a muc#user presence, or a join refusal. Undefined
 * for anything else (a bare-JID sender, a presence without muc#user that is no error).
 */
export function readOccupant(p: Element): OccupantPresence | undefined {
  const from = String(p.attrs.from ?? '');
  const nick = resourceOf(from);
  if (nick === undefined) return undefined;
  const base = { room: bareJid(from), nick, to: String(p.attrs.to ?? ''), self: false, created: false };
  if (p.attrs.type === 'error') {
    const condition = p
      .getChild('error')
      ?.children.find((c): c is Element => typeof c !== 'string' && c.attrs.xmlns === NS.stanzas)?.name;
    return { ...base, available: false, codes: [], error: condition ?? 'undefined-condition' };
  }
  const x = p.getChild('x', NS.mucUser);
  if (!x) return undefined;
  const codes = x.getChildren('status').map((s) => String(s.attrs.code ?? ''));
  const real = x.getChild('item')?.attrs.jid;
  return {
    ...base,
    available: p.attrs.type !== 'unavailable',
    // A destroyed room's presence to each occupant is about itself, with no 110 on ejabberd (§10.9).
    self: codes.includes('110') || (p.attrs.type === 'unavailable' && x.getChild('destroy') !== undefined),
    created: codes.includes('201'),
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
    room: bareJid(from),
    inviter: String(inv.attrs.from ?? from),
    reason: inv.getChildText('reason') ?? undefined,
  };
}

export interface RoomGroupchat {
  room: string;
  /** undefined for the room's own messages */
  nick?: string;
  body: string;
  /** the sender's JSON (Parley's `data` element), null without one */
  data: unknown;
  /** the room's archive id (XEP-0359 stanza-id `by` the room) */
  stanzaId?: string;
  /** the sender's message id */
  id?: string;
  /** a XEP-0203 delay marks room history, not a live message */
  historic: boolean;
  delayed?: Date;
}

/** A groupchat message with a body (subjects and other messages: undefined). */
export function readGroupchat(m: Element): RoomGroupchat | undefined {
  if (m.attrs.type !== 'groupchat') return undefined;
  const body = m.getChildText('body');
  if (body === null || body === undefined) return undefined;
  const from = String(m.attrs.from ?? '');
  const room = bareJid(from);
  const delay = m.getChild('delay', NS.delay);
  const stamp = delay?.attrs.stamp;
  const delayed = typeof stamp === 'string' ? new Date(stamp) : undefined;
  const sid = m.getChildren('stanza-id', NS.sid).find((s) => bareJid(String(s.attrs.by ?? '')) === room)
    ?.attrs.id;
  return {
    room,
    nick: resourceOf(from),
    body,
    data: readJson(m.getChild('data', NS.parleyData)?.text()),
    stanzaId: typeof sid === 'string' ? sid : undefined,
    id: typeof m.attrs.id === 'string' ? m.attrs.id : undefined,
    historic: delay !== undefined,
    delayed: delayed && !Number.isNaN(delayed.getTime()) ? delayed : undefined,
  };
}

function readJson(text: string | undefined): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
