import { BridgeError } from '../errors/BridgeError.js';
import { fromStanzaError } from '../errors/fromStanzaError.js';
import type { EventHub } from '../sse/EventHub.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import type { RoomAddress } from './names.js';
import { JoinedRoom } from './RoomState.js';
import {
  RoomSender,
  requireOnline,
  type MessageInput,
  type Posted,
  type RoomSenderDeps,
} from './RoomSender.js';
import {
  configSubmit,
  destroyRoom,
  discoInfo,
  joinPresence,
  leavePresence,
  type RoomOptions,
} from '../xmpp/muc/stanzas.js';

/** How long the room may take to answer a join, and to send history + subject after it. */
const JOIN_TIMEOUT_MS = 15_000;
const HISTORY_TIMEOUT_MS = 20_000;

export interface JoinRequest {
  nick: string;
  password?: string;
  create: boolean;
  maxStanzas: number;
  options?: RoomOptions;
  subject?: string;
}

export interface RoomServiceDeps extends Omit<RoomSenderDeps, 'joined'> {
  hub: EventHub;
  /** the session is now in the room / no longer (kept durable for a restore after a restart) */
  onEntered?: (session: UserSession, room: JoinedRoom) => void;
  onLeft?: (session: UserSession, jid: string) => void;
}

/** What a session does in rooms: join (creating), leave, post, change the subject, message an occupant, invite. */
export class RoomService {
  // Sending is RoomSender's; routes and the rejoiner keep talking to this one service.
  readonly #sender: RoomSender;
  constructor(private readonly deps: RoomServiceDeps) {
    this.#sender = new RoomSender({ ...deps, joined: (session, addr) => this.joined(session, addr) });
  }

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
      if (req.subject !== undefined) await this.#sender.changeSubject(session, room, req.subject);
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

  post(session: UserSession, addr: RoomAddress, input: MessageInput): Promise<Posted> {
    return this.#sender.post(session, addr, input);
  }

  setSubject(session: UserSession, addr: RoomAddress, subject: string): Promise<void> {
    return this.#sender.setSubject(session, addr, subject);
  }

  sendPrivate(session: UserSession, addr: RoomAddress, nick: string, input: MessageInput) {
    return this.#sender.sendPrivate(session, addr, nick, input);
  }

  invite(
    session: UserSession,
    addr: RoomAddress,
    inviteeRaw: string,
    opts: { reason?: string; password?: string; direct?: boolean },
  ): Promise<string> {
    return this.#sender.invite(session, addr, inviteeRaw, opts);
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
