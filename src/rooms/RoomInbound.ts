import type { Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { readData, readDelay, readStanzaId } from '../xmpp/stanzas/message.js';
import {
  leaveCause,
  readError,
  readInvitation,
  readMamResult,
  readOccupant,
  type ArchivedMessage,
  type OccupantPresence,
} from './inbound.js';
import { MAM_QUERY_PREFIX, type JoinedRoom, type RoomRegistry, type SessionRooms } from './RoomState.js';
import type { MessageWriter } from '../messages/MessageLog.js';
import {
  groupchatPayload,
  invitationPayload,
  leftPayload,
  occupantPayload,
  privatePayload,
} from './events.js';
import { readAttachments } from '../attachments/index.js';
import { bareJid, resourceOf } from '../xmpp/jid.js';

export interface RoomInboundDeps {
  registry: RoomRegistry;
  messages: Pick<MessageWriter, 'append'>;
  hub: EventHub;
  log: Log;
  /** the room dropped us without a verdict (our session ending, or the service shutting down): enter it again */
  onRoomLost?: (session: UserSession, room: JoinedRoom) => void;
  /** our occupant is out of the room for good (left, kicked, banned, room destroyed) */
  onSelfLeft?: (session: UserSession, jid: string) => void;
  /** a room's https meeting link for invitations (PARLEY_MEETING_URL_TEMPLATE) */
  meetingUrl?: (room: string) => string;
}

/**
 * Everything a session receives from rooms: occupant presence (room state + `chatapi.presence`),
 * room messages (stored once, then `chatapi.muc`), subjects, invitations, private messages, errors.
 * Handlers decide synchronously whether a stanza is theirs, then process it in the session's queue.
 */
export class RoomInbound {
  constructor(private readonly deps: RoomInboundDeps) {}

  /**
   * Runs on the raw stanza event, before any router queue: errors answer requests that are waiting
   * right now (a round trip after the request proves none came), and archive results must be collected
   * before the query's IQ result resolves.
   */
  onRaw(session: UserSession, el: Element): void {
    if (el.name !== 'message') return;
    const rooms = this.deps.registry.of(session);
    if (el.attrs.type === 'error') {
      // Waiters match room and message id; an error nobody waits for is dropped here and left to the router.
      rooms.signal({
        kind: 'messageError',
        room: bareJid(String(el.attrs.from ?? '')),
        messageId: el.attrs.id as string | undefined,
        error: readError(el),
      });
      return;
    }
    const result = readMamResult(el);
    if (result) rooms.mam.get(result.queryId)?.push(result);
  }

  onPresence(session: UserSession, p: Element): boolean | Promise<boolean> {
    const rooms = this.deps.registry.of(session);
    const room = rooms.rooms.get(bareJid(String(p.attrs.from ?? '')));
    if (!room) return p.getChild('x', NS.mucUser) !== undefined; // a room we left: nobody else's business
    return rooms.enqueue(() => this.#presence(session, rooms, room, p)).then(() => true);
  }

  onMessage(session: UserSession, m: Element): boolean | Promise<boolean> {
    const rooms = this.deps.registry.of(session);
    const from = String(m.attrs.from ?? '');
    const room = rooms.rooms.get(bareJid(from));
    const type = m.attrs.type ?? 'normal';
    if (type === 'error') return room !== undefined; // answered in onRaw
    const mam = m.getChild('result', NS.mam);
    if (mam) return String(mam.attrs.queryid ?? '').startsWith(MAM_QUERY_PREFIX); // ours were collected in onRaw
    const invitation = readInvitation(m);
    if (invitation && !(room && type === 'groupchat')) {
      return rooms
        .enqueue(async () => {
          const event = await this.deps.hub.publish(
            session.username,
            EVENT_NAMES.muc,
            invitationPayload(invitation, this.deps.meetingUrl),
            { durable: true },
          );
          this.deps.log.debug({ room: invitation.room, eventId: event.id }, 'room invitation');
        })
        .then(() => true);
    }
    if (type === 'groupchat') {
      if (!room) return true; // from a room this session is not in (any more)
      return rooms.enqueue(() => this.#groupchat(session, rooms, room, m)).then(() => true);
    }
    if (room && resourceOf(from) && (type === 'chat' || m.getChild('x', NS.mucUser))) {
      return rooms.enqueue(() => this.#private(session, room, m)).then(() => true);
    }
    return false;
  }

  async #presence(session: UserSession, rooms: SessionRooms, room: JoinedRoom, p: Element): Promise<void> {
    if (p.attrs.type === 'error') {
      if (room.status === 'joining') rooms.signal({ kind: 'joinError', room: room.jid, error: readError(p) });
      return;
    }
    const o = readOccupant(p);
    if (!o) return;
    const to = String(p.attrs.to ?? session.fullJid);
    if (o.self && o.available) {
      room.nick = o.nick;
      room.role = o.role;
      room.affiliation = o.affiliation;
      if (room.status === 'joining') room.created = o.codes.includes('201');
      room.status = 'joined';
      rooms.signal({ kind: 'self', room: room.jid, created: room.created });
    } else if (o.self && !o.codes.includes('303')) {
      const cause = leaveCause(o);
      if (room.leaving || (cause !== 'self' && cause !== 'shutdown')) {
        await this.#selfLeft(session, rooms, room, o, cause);
        return;
      }
      // Out without asking: the server is ending our session (it speaks for it on the way out) or the
      // room service shut down. No verdict on us: keep the room and enter it again when we can.
      room.status = 'offline';
      room.occupants.clear();
      this.deps.onRoomLost?.(session, room);
    }
    if (o.available && room.status !== 'offline')
      room.occupants.set(o.nick, {
        nick: o.nick,
        role: o.role,
        affiliation: o.affiliation,
        jid: o.jid,
        show: o.show,
        status: o.status,
      });
    else room.occupants.delete(o.nick);
    await this.deps.hub.publish(session.username, EVENT_NAMES.presence, occupantPayload(o, to), {
      durable: false,
    });
  }

  /** Our own occupant left: by request, or kicked, banned, the room destroyed… (durable: it changes what the user can do). */
  async #selfLeft(
    session: UserSession,
    rooms: SessionRooms,
    room: JoinedRoom,
    o: OccupantPresence,
    cause: string,
  ): Promise<void> {
    rooms.rooms.delete(room.jid);
    rooms.signal({ kind: 'left', room: room.jid });
    this.deps.onSelfLeft?.(session, room.jid);
    await this.deps.hub.publish(session.username, EVENT_NAMES.muc, leftPayload(room.jid, o.nick, cause, o), {
      durable: true,
    });
  }

  async #groupchat(session: UserSession, rooms: SessionRooms, room: JoinedRoom, m: Element): Promise<void> {
    const body = m.getChildText('body') ?? undefined;
    const subject = m.getChild('subject');
    if (subject && body === undefined) {
      // Subject-only messages change the subject (XEP-0045 §8.1); the one sent on join ends the history.
      room.subject = subject.text() || undefined;
      rooms.signal({ kind: 'subject', room: room.jid });
      const from = String(m.attrs.from ?? room.jid);
      await this.deps.hub.publish(
        session.username,
        EVENT_NAMES.muc,
        {
          type: 'subject',
          room: room.jid,
          nick: resourceOf(from) ?? null,
          from,
          to: String(m.attrs.to ?? session.fullJid),
          subject: room.subject ?? '',
        },
        { durable: false },
      );
      return;
    }
    await this.store(session, rooms, room, m, { stanzaId: readStanzaId(m, room.jid), sentAt: readDelay(m) });
  }

  /** Stores a live, history or archived room message once, then delivers it and tells waiting posters. */
  async store(
    session: UserSession,
    rooms: SessionRooms,
    room: JoinedRoom,
    m: Element,
    at: { stanzaId?: string; sentAt?: Date },
  ): Promise<void> {
    const body = m.getChildText('body') ?? undefined;
    const data = readData(m);
    if (body === undefined && data === null) return; // status notices (config changed, …) carry nothing to keep
    const from = String(m.attrs.from ?? room.jid);
    const nick = resourceOf(from);
    const messageId = m.attrs.id as string | undefined;
    const direction = nick !== undefined && nick === room.nick ? 'out' : 'in';
    const to = String(m.attrs.to ?? session.fullJid);
    const subject = m.getChildText('subject') ?? undefined;
    const event = await this.deps.messages.append(
      {
        owner: session.username,
        kind: 'groupchat',
        direction,
        peer: room.jid,
        nick,
        fromJid: from,
        toJid: to,
        body,
        subject,
        data,
        messageId,
        stanzaId: at.stanzaId,
        sentAt: at.sentAt,
      },
      {
        name: EVENT_NAMES.muc,
        payload: groupchatPayload({
          room: room.jid,
          nick,
          from,
          to,
          body,
          subject,
          data,
          messageId,
          stanzaId: at.stanzaId,
          direction,
          delayed: at.sentAt,
          attachments: readAttachments(m, data),
        }),
      },
    );
    rooms.signal({
      kind: 'stored',
      room: room.jid,
      messageId,
      eventId: event?.id,
      stanzaId: at.stanzaId,
      timestamp: event?.payload.timestamp as string | undefined,
    });
  }

  /** Archive results of a catch-up query (collected in onRaw), stored in archive order. */
  async storeArchived(session: UserSession, room: JoinedRoom, results: ArchivedMessage[]): Promise<void> {
    const rooms = this.deps.registry.of(session);
    await rooms.enqueue(async () => {
      for (const r of results) {
        if ((r.msg.attrs.type ?? 'normal') !== 'groupchat') continue;
        await this.store(session, rooms, room, r.msg, { stanzaId: r.archiveId, sentAt: r.sentAt });
      }
    });
  }

  /** A private message from an occupant (XEP-0045 §7.5): kept with the room as peer, kind 'chat'. */
  async #private(session: UserSession, room: JoinedRoom, m: Element): Promise<void> {
    const body = m.getChildText('body') ?? undefined;
    const data = readData(m);
    if (body === undefined && data === null) return;
    const from = String(m.attrs.from);
    const to = String(m.attrs.to ?? session.fullJid);
    const nick = resourceOf(from)!;
    const messageId = m.attrs.id as string | undefined;
    await this.deps.messages.append(
      {
        owner: session.username,
        kind: 'chat',
        direction: 'in',
        peer: room.jid,
        nick,
        fromJid: from,
        toJid: to,
        body,
        data,
        messageId,
        sentAt: readDelay(m),
      },
      {
        name: EVENT_NAMES.muc,
        payload: privatePayload({ room: room.jid, nick, from, to, body, data, messageId, direction: 'in' }),
      },
    );
  }
}
