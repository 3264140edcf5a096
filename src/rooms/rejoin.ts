import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { leftPayload } from './events.js';
import type { RoomInbound } from './RoomInbound.js';
import { MAM_QUERY_PREFIX, type JoinedRoom, type RoomRegistry } from './RoomState.js';
import type { RoomService } from './RoomService.js';
import type { RoomReader } from '../messages/MessageLog.js';
import { mamQuery } from '../xmpp/muc/stanzas.js';

/** Archive catch-up: pages of this size, at most this many (older gaps are left to the history endpoint). */
const MAM_PAGE = 50;
const MAM_MAX_PAGES = 20;
/** Attempts at a re-join that fails for a passing reason (timeout) while the session stays online. */
const ATTEMPTS = 3;

export interface RejoinDeps {
  registry: RoomRegistry;
  service: RoomService;
  inbound: RoomInbound;
  messages: Pick<RoomReader, 'lastRoomStanzaId'>;
  hub: EventHub;
  log: Log;
  /** a room dropped because it refuses us now */
  onDropped?: (session: UserSession, jid: string) => void;
}

/**
 * After an XMPP reconnect that lost the session (not an XEP-0198 resumption), every room the session
 * was in is entered again: first the gap is filled from the room's archive (muc_mam, `after` the newest
 * room stanza-id this user holds), then the join's own history covers the moments in between; the
 * room stanza-id makes each message stored once. A room that refuses us now is dropped with a
 * durable `left` event, so the client knows.
 */
export class Rejoiner {
  constructor(private readonly deps: RejoinDeps) {}

  async rejoinAll(session: UserSession): Promise<void> {
    const rooms = [...this.deps.registry.of(session).rooms.values()];
    if (rooms.length)
      this.deps.log.info(
        { streamId: session.streamId, rooms: rooms.length },
        're-joining rooms after reconnect',
      );
    await Promise.all(rooms.map((room) => this.rejoin(session, room)));
  }

  /** Enters one room again, unless that is already under way. */
  async rejoin(session: UserSession, room: JoinedRoom): Promise<void> {
    if (room.pending) return;
    const work = this.#attempts(session, room);
    room.pending = work;
    try {
      await work;
    } finally {
      if (room.pending === work) room.pending = undefined;
    }
  }

  async #attempts(session: UserSession, room: JoinedRoom): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.catchUp(session, room);
        if (await this.deps.service.enter(session, room)) await this.deps.service.configureNew(session, room);
        this.deps.log.info({ streamId: session.streamId, room: room.jid }, 're-joined room');
        return;
      } catch (err) {
        const passing =
          err instanceof BridgeError && (err.code === 'XMPP_UNAVAILABLE' || err.code === 'XMPP_TIMEOUT');
        if (passing && !session.isOnline) {
          room.status = 'offline';
          return;
        } // the next reconnect tries again
        if (passing && attempt < ATTEMPTS) {
          await sleep(1000 * attempt);
          continue;
        }
        await this.#drop(session, room, err);
        return;
      }
    }
  }

  async #drop(session: UserSession, room: JoinedRoom, err: unknown): Promise<void> {
    this.deps.log.warn({ err, streamId: session.streamId, room: room.jid }, 'could not re-join room');
    const rooms = this.deps.registry.of(session);
    if (rooms.rooms.get(room.jid) === room) rooms.rooms.delete(room.jid);
    this.deps.onDropped?.(session, room.jid);
    const reason = err instanceof BridgeError ? err.detail : String(err);
    await this.deps.hub
      .publish(
        session.username,
        EVENT_NAMES.muc,
        leftPayload(room.jid, room.nick, 'rejoinFailed', { reason }),
        { durable: true },
      )
      .catch((e) => this.deps.log.warn({ err: e }, 'could not record left event'));
  }

  /** Fills the gap since the newest room message this user holds from the room's archive, if it has one. */
  async catchUp(session: UserSession, room: JoinedRoom): Promise<number> {
    let after = await this.deps.messages.lastRoomStanzaId(session.username, room.jid);
    if (!after) return 0; // nothing stored yet: the join's history is all there is to have
    let stored = 0;
    for (let page = 0; page < MAM_MAX_PAGES; page++) {
      const results = await this.#page(session, room, after);
      if (!results) return stored;
      await this.deps.inbound.storeArchived(session, room, results.items);
      stored += results.items.length;
      if (results.complete || !results.last) return stored;
      after = results.last;
    }
    return stored;
  }

  async #page(session: UserSession, room: JoinedRoom, after: string) {
    const rooms = this.deps.registry.of(session);
    const queryId = `${MAM_QUERY_PREFIX}${randomUUID()}`;
    rooms.mam.set(queryId, []);
    const fin = await session
      .iq(mamQuery(room.jid, queryId, after, MAM_PAGE), 15_000, `archive query to ${room.jid}`)
      .catch((err: unknown) => {
        // No archive, or it no longer knows our cursor (e.g. the server restarted with in-memory archives).
        this.deps.log.info({ err, room: room.jid }, 'room archive catch-up skipped');
        return undefined;
      });
    // The results came before the IQ answer and were collected by RoomInbound.onRaw.
    const items = rooms.mam.get(queryId) ?? [];
    rooms.mam.delete(queryId);
    if (!fin) return undefined;
    const f = fin.getChild('fin', NS.mam);
    return {
      items,
      complete: f?.attrs.complete === 'true',
      last: f?.getChild('set', NS.rsm)?.getChildText('last') ?? undefined,
    };
  }
}
