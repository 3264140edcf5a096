import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { BridgeError } from '../errors/BridgeError.js';
import { fromStanzaError } from '../errors/fromStanzaError.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { parseJid } from '../xmpp/jid.js';
import { buildMessage } from '../xmpp/stanzas/message.js';
import { bodyForFiles, oobElements, withAttachmentData, type MessageFiles } from '../attachments/index.js';
import { privatePayload } from './events.js';
import type { RoomAddress } from './names.js';
import { JoinedRoom, type RoomRegistry } from './RoomState.js';
import type { MessageWriter } from '../messages/MessageLog.js';
import type { SendPolicy } from '../moderation/ports.js';
import {
  configSubmit,
  destroyRoom,
  directInvite,
  discoInfo,
  joinPresence,
  leavePresence,
  mediatedInvite,
  subjectMessage,
  type RoomOptions,
} from '../xmpp/muc/stanzas.js';

/** How long the room may take to answer a join, and to send history + subject after it. */
const JOIN_TIMEOUT_MS = 15_000;
const HISTORY_TIMEOUT_MS = 20_000;
/** A post is acknowledged once the room's copy of it is stored; a room that does not echo gets a 202. */
const ECHO_TIMEOUT_MS = 10_000;

export interface JoinRequest {
  nick: string;
  password?: string;
  create: boolean;
  maxStanzas: number;
  options?: RoomOptions;
  subject?: string;
}
/** `subject` beside a body is part of the message, not a subject change (XEP-0045 §8.1). */
export interface MessageInput {
  body?: string;
  data?: unknown;
  subject?: string;
  /** uploaded file ids to attach (room posts) */ fileIds?: string[];
}
/** `id` is the event id, `stanzaId` the message id, `archiveId` the room's XEP-0359 id (chat's names). */
export interface Posted {
  room: string;
  stanzaId: string;
  stored: boolean;
  id?: string;
  archiveId?: string;
  timestamp?: string;
}

export interface RoomServiceDeps {
  registry: RoomRegistry;
  messages: Pick<MessageWriter, 'append'>;
  hub: EventHub;
  domain: string;
  /** moderation's: a muted or disabled user posts, invites and changes subjects nowhere */
  policy: SendPolicy;
  /** resolves the files a post names (the attachments feature's port) */
  files?: MessageFiles;
  /** the session is now in the room / no longer (kept durable for a restore after a restart) */
  onEntered?: (session: UserSession, room: JoinedRoom) => void;
  onLeft?: (session: UserSession, jid: string) => void;
}

/** What a session does in rooms: join (creating), leave, post, change the subject, message an occupant, invite. */
export class RoomService {
  constructor(private readonly deps: RoomServiceDeps) {}

  /** Joins (or creates) the room; a second join of a joined room just answers its current state. */
  async join(
    session: UserSession,
    addr: RoomAddress,
    req: JoinRequest,
  ): Promise<{ room: JoinedRoom; created: boolean }> {
    const rooms = this.deps.registry.of(session);
    const existing = rooms.rooms.get(addr.jid);
    if (existing?.pending) await existing.pending.catch(() => undefined);
    if (existing?.status === 'joined' && rooms.rooms.get(addr.jid) === existing)
      return { room: existing, created: false };
    requireOnline(session);
    if (!req.create) await this.requireRoom(session, addr.jid);
    const room = new JoinedRoom(addr.jid, req.nick, req.password, req.options, req.maxStanzas);
    rooms.rooms.set(addr.jid, room);
    const work = this.#firstJoin(session, room, req);
    room.pending = work;
    try {
      const created = await work;
      this.deps.onEntered?.(session, room);
      return { room, created };
    } catch (err) {
      if (rooms.rooms.get(addr.jid) === room) rooms.rooms.delete(addr.jid);
      throw err;
    } finally {
      room.pending = undefined;
    }
  }

  async #firstJoin(session: UserSession, room: JoinedRoom, req: JoinRequest): Promise<boolean> {
    const created = await this.enter(session, room);
    if (created) {
      await this.configureNew(session, room);
      if (req.subject !== undefined) await this.#setSubject(session, room, req.subject);
    }
    return created;
  }

  /** 404 unless the room exists (disco#info answers item-not-found for a room that does not). */
  async requireRoom(session: UserSession, jid: string): Promise<void> {
    await session.iq(discoInfo(jid), 10_000, `looking up ${jid}`);
  }

  /**
   * Sends the join presence and waits for our own presence (or the refusal), then for the subject,
   * which the room sends after the history (XEP-0045 §7.2.15): once it is here, the history is stored.
   * Resolves true when the join created the room (status 201).
   */
  async enter(session: UserSession, room: JoinedRoom): Promise<boolean> {
    const rooms = this.deps.registry.of(session);
    room.status = 'joining';
    room.occupants.clear();
    const self = rooms.waitFor<boolean>(
      (s) =>
        s.room !== room.jid
          ? undefined
          : s.kind === 'self'
            ? { value: s.created }
            : s.kind === 'joinError'
              ? { error: fromStanzaError(s.error, `joining ${room.jid}`) }
              : undefined,
      JOIN_TIMEOUT_MS,
      () => new BridgeError('XMPP_TIMEOUT', `${room.jid} did not answer the join`),
    );
    const history = rooms.waitFor<void>(
      (s) =>
        s.room === room.jid && (s.kind === 'subject' || s.kind === 'joinError')
          ? { value: undefined }
          : undefined,
      HISTORY_TIMEOUT_MS,
      () => undefined,
    );
    await session.send(
      joinPresence(room.jid, room.nick, { password: room.password, maxStanzas: room.maxStanzas }),
    );
    const created = await self;
    await history;
    return created;
  }

  /**
   * Submits the owner configuration of a room this join created: the requested options, or the
   * empty "instant room" form, which unlocks the room on servers that lock new rooms (§10.1.2).
   * A room that cannot be configured as asked is destroyed rather than left open with defaults.
   */
  async configureNew(session: UserSession, room: JoinedRoom): Promise<void> {
    try {
      await session.iq(configSubmit(room.jid, room.options ?? {}), 10_000, `configuring ${room.jid}`);
    } catch (err) {
      await session
        .iq(destroyRoom(room.jid, 'the requested configuration was refused'), 10_000)
        .catch(() => undefined);
      throw err;
    }
  }

  async leave(session: UserSession, addr: RoomAddress): Promise<void> {
    const rooms = this.deps.registry.of(session);
    const room = rooms.rooms.get(addr.jid);
    if (!room) return;
    if (!session.isOnline) {
      rooms.rooms.delete(addr.jid);
      this.deps.onLeft?.(session, addr.jid);
      return;
    } // not in the room anyway; just do not re-join it
    const left = rooms.waitFor<void>(
      (s) => (s.kind === 'left' && s.room === room.jid ? { value: undefined } : undefined),
      5000,
      () => undefined,
    );
    room.leaving = true;
    await session.send(leavePresence(room.jid, room.nick));
    await left;
    if (rooms.rooms.get(addr.jid) === room) rooms.rooms.delete(addr.jid);
    this.deps.onLeft?.(session, addr.jid);
  }

  /** Posts and waits for the room's copy, which is stored (with the room's stanza-id) before this answers. */
  async post(session: UserSession, addr: RoomAddress, input: MessageInput): Promise<Posted> {
    await this.deps.policy.assertMaySend(session.username);
    const room = await this.joined(session, addr);
    // Backpressure: a refused post is neither sent nor awaited; an admitted one holds its place until sent.
    const release = session.admitSend();
    try {
      return await this.#post(session, room, input, release);
    } finally {
      release();
    }
  }

  async #post(
    session: UserSession,
    room: JoinedRoom,
    input: MessageInput,
    sent: () => void,
  ): Promise<Posted> {
    const messageId = randomUUID();
    const echo = this.deps.registry.of(session).waitFor<Posted>(
      (s) => {
        if (
          (s.kind !== 'stored' && s.kind !== 'messageError') ||
          s.room !== room.jid ||
          s.messageId !== messageId
        )
          return undefined;
        if (s.kind === 'messageError') return { error: fromStanzaError(s.error, `posting to ${room.jid}`) };
        return {
          value: {
            room: room.jid,
            stanzaId: messageId,
            stored: s.eventId !== undefined,
            id: s.eventId,
            archiveId: s.stanzaId,
            timestamp: s.timestamp,
          },
        };
      },
      ECHO_TIMEOUT_MS,
      () => ({ room: room.jid, stanzaId: messageId, stored: false }),
    );
    const files =
      input.fileIds && this.deps.files
        ? await this.deps.files.attach(session.username, input.fileIds, {
            kind: 'room',
            jid: room.jid,
          })
        : [];
    const stanza = buildMessage({
      to: room.jid,
      type: 'groupchat',
      subject: input.subject,
      id: messageId,
      ...(files.length
        ? { body: input.body ?? bodyForFiles(files), data: withAttachmentData(input.data, files) }
        : { body: input.body, data: input.data }),
    });
    for (const oob of oobElements(files)) stanza.append(oob);
    await session.send(stanza).finally(sent);
    return echo;
  }

  async setSubject(session: UserSession, addr: RoomAddress, subject: string): Promise<void> {
    await this.#setSubject(session, await this.joined(session, addr), subject);
  }

  async #setSubject(session: UserSession, room: JoinedRoom, subject: string): Promise<void> {
    await this.deps.policy.assertMaySend(session.username);
    const msg = subjectMessage(room.jid, subject);
    const done = this.deps.registry.of(session).waitFor<void>(
      (s) =>
        s.room !== room.jid
          ? undefined
          : s.kind === 'subject'
            ? { value: undefined }
            : s.kind === 'messageError' && s.messageId === msg.attrs.id
              ? { error: fromStanzaError(s.error, `changing the subject of ${room.jid}`) }
              : undefined,
      ECHO_TIMEOUT_MS,
      () => undefined,
    );
    await session.send(msg);
    await done;
  }

  /** A private message to one occupant (§7.5), stored as the user's own before it is acknowledged. */
  async sendPrivate(session: UserSession, addr: RoomAddress, nick: string, input: MessageInput) {
    await this.deps.policy.assertMaySend(session.username);
    const room = await this.joined(session, addr);
    const messageId = randomUUID();
    const to = `${room.jid}/${nick}`;
    const msg = buildMessage({ to, type: 'chat', body: input.body, data: input.data, id: messageId });
    msg.append(xml('x', { xmlns: NS.mucUser })); // marks it as a MUC private message for the recipient's client
    const release = session.admitSend(); // backpressure, before anything is sent or stored
    try {
      await this.#sendChecked(session, room.jid, msg, `private message to ${nick} in ${room.jid}`, release);
    } finally {
      release();
    }
    const from = `${room.jid}/${room.nick}`;
    const event = await this.deps.messages.append(
      {
        owner: session.username,
        kind: 'chat',
        direction: 'out',
        peer: room.jid,
        nick,
        fromJid: from,
        toJid: to,
        body: input.body,
        data: input.data,
        messageId,
      },
      {
        name: EVENT_NAMES.muc,
        payload: privatePayload({
          room: room.jid,
          nick,
          from,
          to,
          body: input.body,
          data: input.data,
          messageId,
          direction: 'out',
        }),
      },
    );
    return {
      room: room.jid,
      nick,
      stanzaId: messageId,
      id: event?.id,
      timestamp: event?.payload.timestamp as string | undefined,
    };
  }

  /** Mediated (through the room, which adds the password) or XEP-0249 direct invitation. */
  async invite(
    session: UserSession,
    addr: RoomAddress,
    inviteeRaw: string,
    opts: { reason?: string; password?: string; direct?: boolean },
  ): Promise<string> {
    requireOnline(session);
    const invitee = parseJid(inviteeRaw, this.deps.domain, 'invitee JID');
    await this.deps.policy.assertMaySend(session.username);
    if (opts.direct) {
      const password = opts.password ?? this.deps.registry.of(session).rooms.get(addr.jid)?.password;
      await session.send(directInvite(addr.jid, invitee.full, { reason: opts.reason, password }));
    } else {
      await this.#sendChecked(
        session,
        addr.jid,
        mediatedInvite(addr.jid, invitee.full, opts.reason),
        `invitation of ${invitee.full} to ${addr.jid}`,
      );
    }
    return invitee.full;
  }

  /**
   * Sends a stanza the room answers only when it refuses it. The room handles a sender's stanzas in
   * order, so once a disco#info round trip is back, a refusal would already have arrived.
   */
  async #sendChecked(
    session: UserSession,
    roomJid: string,
    stanza: Element,
    what: string,
    sent: () => void = () => undefined,
  ): Promise<void> {
    const id = stanza.attrs.id as string;
    const refusal = this.deps.registry
      .of(session)
      .watch((s) =>
        s.kind === 'messageError' && s.room === roomJid && s.messageId === id
          ? { value: s.error }
          : undefined,
      );
    try {
      await session.send(stanza).finally(sent);
      await session.iq(discoInfo(roomJid), 10_000, `${what} (round trip)`).catch(() => undefined);
      if (refusal.value) throw fromStanzaError(refusal.value, what);
    } finally {
      refusal.stop();
    }
  }

  /** The joined room, waiting for a re-join in flight; 409 when the session is not in it. */
  async joined(session: UserSession, addr: RoomAddress): Promise<JoinedRoom> {
    requireOnline(session);
    const room = this.deps.registry.of(session).rooms.get(addr.jid);
    if (room?.pending) await room.pending.catch(() => undefined);
    if (!room || this.deps.registry.of(session).rooms.get(addr.jid) !== room) {
      throw new BridgeError(
        'CONFLICT',
        `this session is not in ${addr.jid}; join it first (PUT /restapi/v1/chat/${session.streamId}/rooms/${addr.name})`,
      );
    }
    if (room.status !== 'joined')
      throw new BridgeError('XMPP_UNAVAILABLE', `re-joining ${addr.jid}; try again shortly`, {
        retryAfter: 2,
      });
    return room;
  }
}

function requireOnline(session: UserSession): void {
  if (!session.isOnline)
    throw new BridgeError('XMPP_UNAVAILABLE', 'the XMPP session is reconnecting; try again shortly', {
      retryAfter: 2,
    });
}
