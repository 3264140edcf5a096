/**
 * Payloads of the rooms feature's SSE events (ofchat's `chatapi.muc` shapes, reference §1.8, plus the
 * fields ofchat lacked). openapi.yaml documents them as MucEvent and RoomPresenceEvent.
 *  - chatapi.muc groupchat / chat (private) / invitationReceived / left: durable (stored, replayable);
 *  - chatapi.muc subject and chatapi.presence of occupants: ephemeral (the current state is in GET/PUT answers).
 */
import type { Payload } from '../sse/events.js';
import type { Invitation, OccupantPresence } from './inbound.js';
import { attachmentsField, type Attachment } from '../attachments/index.js';

export interface GroupchatFields {
  room: string;
  nick?: string;
  from: string;
  to: string;
  body?: string;
  subject?: string;
  data: unknown;
  messageId?: string;
  stanzaId?: string;
  direction: 'in' | 'out';
  delayed?: Date;
  attachments?: Attachment[];
}

/**
 * As in chat: `stanzaId` is the sender's message id, `archiveId` the room's XEP-0359 stanza-id (the same
 * for every occupant, absent where the room keeps no archive).
 */
export function groupchatPayload(m: GroupchatFields): Payload {
  return {
    type: 'groupchat',
    room: m.room,
    nick: m.nick ?? null,
    from: m.from,
    to: m.to,
    body: m.body ?? null,
    data: m.data ?? null,
    ...(m.subject !== undefined ? { subject: m.subject } : {}),
    stanzaId: m.messageId ?? null,
    ...(m.stanzaId ? { archiveId: m.stanzaId } : {}),
    direction: m.direction,
    // History and archive copies keep the time the room stamped them with.
    ...(m.delayed ? { delayed: true, timestamp: m.delayed.toISOString() } : {}),
    ...attachmentsField(m.attachments ?? []),
  };
}

export function privatePayload(
  m: Omit<GroupchatFields, 'subject' | 'stanzaId' | 'delayed'> & { nick: string },
): Payload {
  return {
    type: 'chat',
    room: m.room,
    nick: m.nick,
    from: m.from,
    to: m.to,
    body: m.body ?? null,
    data: m.data ?? null,
    stanzaId: m.messageId ?? null,
    direction: m.direction,
  };
}

/**
 * ofchat's shape. `url` is the room's https meeting link where PARLEY_MEETING_URL_TEMPLATE gives one (as
 * ofchat sends its ofmeet URL), else the XMPP URI (RFC 5122 / XEP-0147) that joins the room, which
 * `xmppUri` always carries.
 */
export function invitationPayload(i: Invitation, meetingUrl?: (room: string) => string): Payload {
  const xmppUri = `xmpp:${i.room}?join`;
  return {
    type: 'invitationReceived',
    room: i.room,
    from: i.from,
    to: i.to,
    inviter: i.inviter,
    reason: i.reason ?? null,
    password: i.password ?? null,
    url: meetingUrl ? meetingUrl(i.room) : xmppUri,
    xmppUri,
    direct: i.direct,
  };
}

export function leftPayload(
  room: string,
  nick: string,
  cause: string,
  o?: Pick<OccupantPresence, 'actor' | 'reason' | 'destroyed'>,
): Payload {
  return {
    type: 'left',
    room,
    nick,
    cause,
    ...(o?.actor ? { actor: o.actor } : {}),
    ...((o?.reason ?? o?.destroyed?.reason) ? { reason: o.reason ?? o.destroyed?.reason } : {}),
    ...(o?.destroyed?.alternate ? { alternate: o.destroyed.alternate } : {}),
  };
}

/** `chatapi.presence` of a room occupant: names the room, with the presence `type` ofchat lacked. */
export function occupantPayload(o: OccupantPresence, to: string): Payload {
  return {
    type: o.available ? 'available' : 'unavailable',
    from: `${o.room}/${o.nick}`,
    to,
    room: o.room,
    nick: o.nick,
    role: o.role,
    affiliation: o.affiliation,
    // ofchat's words for availability, as contacts' presence events use them
    show: o.available ? (o.show ?? 'available') : 'offline',
    status: o.status ?? null,
    ...(o.jid ? { jid: o.jid } : {}),
    ...(o.self ? { self: true } : {}),
    ...(o.codes.length ? { codes: o.codes } : {}),
    ...(o.newNick && o.codes.includes('303') ? { newNick: o.newNick } : {}),
    ...(o.actor ? { actor: o.actor } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  };
}

/** The meeting link of a room from the configured template; `{room}` is the room's name (its localpart). */
export function meetingLink(template: string): (room: string) => string {
  return (room) => template.replaceAll('{room}', encodeURIComponent(room.slice(0, room.indexOf('@'))));
}
