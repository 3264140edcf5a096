import { BridgeError } from '../errors/BridgeError.js';
import type { Feature, FeatureContext } from '../features.js';
import { discoveryRoutes } from './discoveryRoutes.js';
import { Rejoiner } from './rejoin.js';
import { RoomInbound } from './RoomInbound.js';
import { roomRoutes } from './roomRoutes.js';
import { RoomService } from './RoomService.js';
import { RoomRegistry } from './RoomState.js';
import { RoomMemory } from './RoomMemory.js';
import type { UserSession } from '../xmpp/client/UserSession.js';

/** How long after a room dropped us without a verdict a still-connected session tries to enter again. */
const LOST_REJOIN_DELAY_MS = 2000;

/**
 * Group rooms (XEP-0045 MUC) over REST + SSE: discovery, join/create, post, private messages,
 * invitations, moderation; room messages stored once and replayable; rooms re-joined after a reconnect.
 * List it before the chat feature: room private messages and invitations are this feature's stanzas.
 */
export function createRoomsFeature(ctx: FeatureContext): Feature {
  const log = ctx.log.child({ c: 'rooms' });
  const naming = { domain: ctx.config.xmpp.domain, mucService: ctx.config.xmpp.mucService };
  const registry = new RoomRegistry();
  const { messages } = ctx;
  // Which rooms each session is in, durable so a session restored after a restart enters them again.
  const memory = new RoomMemory({ db: ctx.db, box: ctx.box });
  const forget = (session: UserSession, jid: string): void => {
    void memory
      .forget(session.streamId, jid)
      .catch((err) => log.warn({ err, streamId: session.streamId, room: jid }, 'could not forget room'));
  };
  const inbound = new RoomInbound({
    registry,
    messages,
    hub: ctx.hub,
    log,
    // Usually the first sign of a lost connection, whose reconnect re-joins first (this then finds the
    // room joined or the re-join under way); alone, a MUC service that restarted under a live session.
    onRoomLost: (session, room) => {
      setTimeout(() => {
        if (
          session.isOnline &&
          room.status === 'offline' &&
          registry.of(session).rooms.get(room.jid) === room
        )
          void rejoiner.rejoin(session, room);
      }, LOST_REJOIN_DELAY_MS).unref();
    },
    onSelfLeft: forget,
  });
  const service = new RoomService({
    registry,
    messages,
    hub: ctx.hub,
    domain: naming.domain,
    db: ctx.db,
    onLeft: forget,
    onEntered: (session, room) => {
      void memory
        .remember(session.streamId, room)
        .catch((err) =>
          log.warn({ err, streamId: session.streamId, room: room.jid }, 'could not remember room'),
        );
    },
  });
  const rejoiner = new Rejoiner({
    registry,
    service,
    inbound,
    messages,
    hub: ctx.hub,
    log,
    onDropped: forget,
  });

  ctx.stanzas.on('presence', 'rooms', (session, el) => inbound.onPresence(session, el));
  ctx.stanzas.on('message', 'rooms', (session, el) => inbound.onMessage(session, el));
  ctx.sessions.onSessionCreated((session) => {
    session.on('stanza', (el) => inbound.onRaw(session, el));
    session.on('state', (state) => {
      if (state === 'reconnecting' || state === 'offline') {
        registry.of(session).disconnected(
          new BridgeError('XMPP_UNAVAILABLE', 'the XMPP session is reconnecting; try again shortly', {
            retryAfter: 2,
          }),
        );
      }
    });
  });
  // After a reconnect that lost the XMPP session (resumed = false; at first login there is no room yet).
  // Not awaited: other features' ready hooks (archive catch-up, carbons) should not wait for every room.
  // A session restored after a gateway restart: its rooms, as offline entries the ready hook below re-joins.
  ctx.sessions.onSessionRestored(async (session) => {
    const rooms = registry.of(session);
    for (const room of await memory.recall(session.streamId)) rooms.rooms.set(room.jid, room);
  });
  ctx.sessions.onSessionReady((session, resumed) => {
    if (!resumed)
      void rejoiner
        .rejoinAll(session)
        .catch((err) => log.warn({ err, streamId: session.streamId }, 're-join failed'));
  });

  return {
    name: 'rooms',
    routes(router, access) {
      discoveryRoutes(router, access, { registry, messages, naming, admin: ctx.admin });
      roomRoutes(router, access, { service, registry, naming });
    },
  };
}
