import { BridgeError } from '../errors/BridgeError.js';
import type { Feature, GatewayContext } from '../feature.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import type { SendPolicy } from '../moderation/ports.js';
import type { MessageFiles } from '../attachments/index.js';
import { bareJid } from '../xmpp/jid.js';
import { NS } from '../xmpp/ns.js';
import { discoveryRoutes } from './discoveryRoutes.js';
import { Rejoiner } from './rejoin.js';
import { RoomInbound } from './RoomInbound.js';
import { ROOM_SEND_ROUTES, roomRoutes } from './roomRoutes.js';
import { RoomService } from './RoomService.js';
import { RoomRegistry } from './RoomState.js';
import { RoomMemory } from './RoomMemory.js';
import type { SessionState, UserSession } from '../xmpp/client/UserSession.js';
import type { Element } from '@xmpp/xml';
import { meetingLink } from './events.js';

/** How long after a room dropped us without a verdict a still-connected session tries to enter again. */
const LOST_REJOIN_DELAY_MS = 2000;

/**
 * Group rooms (XEP-0045 MUC) over REST + SSE: discovery, join/create, post, private messages,
 * invitations, moderation; room messages stored once and replayable; rooms re-joined after a reconnect.
 * Its stanzas: everything a room it joined sends, MUC (muc#user) and direct (jabber:x:conference)
 * invitations, and groupchat messages; chat gets the 1:1 messages that are left.
 */
export type RoomsFeatureDeps = Pick<
  GatewayContext,
  'config' | 'log' | 'db' | 'hub' | 'stanzas' | 'admin' | 'box' | 'messages'
> & {
  sessions: Pick<SessionManager, 'onSessionCreated' | 'onSessionRestored' | 'onSessionReady'>;
  sendPolicy: SendPolicy;
  files: MessageFiles;
};

export function createRoomsFeature(ctx: RoomsFeatureDeps): Feature {
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
  const template = ctx.config.rooms.meetingUrlTemplate;
  const inbound = new RoomInbound({
    meetingUrl: template ? meetingLink(template) : undefined,
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
    files: ctx.files,
    policy: ctx.sendPolicy,
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

  const inRoom = (from: string, session: UserSession): boolean =>
    registry.of(session).rooms.has(bareJid(from));
  const onPresence = (session: UserSession, el: Element) => inbound.onPresence(session, el);
  const onMessage = (session: UserSession, el: Element) => inbound.onMessage(session, el);
  ctx.stanzas.on({ feature: 'rooms', kind: 'presence', from: inRoom }, onPresence);
  ctx.stanzas.on({ feature: 'rooms', kind: 'presence', ns: NS.mucUser }, onPresence); // a room we left
  ctx.stanzas.on({ feature: 'rooms', kind: 'message', from: inRoom }, onMessage);
  ctx.stanzas.on({ feature: 'rooms', kind: 'message', ns: NS.mucUser }, onMessage);
  ctx.stanzas.on({ feature: 'rooms', kind: 'message', ns: NS.conference }, onMessage);
  ctx.stanzas.on({ feature: 'rooms', kind: 'message', type: 'groupchat' }, onMessage);
  // One listener of each kind for every session (a listener's `this` is its session), not closures per
  // session: 10,000 sessions is the goal (bench/JOURNAL.md, "Memory at 10,000 sessions").
  function onStanza(this: UserSession, el: Element): void {
    inbound.onRaw(this, el);
  }
  function onState(this: UserSession, state: SessionState): void {
    if (state === 'reconnecting' || state === 'offline') {
      registry.of(this).disconnected(
        new BridgeError('XMPP_UNAVAILABLE', 'the XMPP session is reconnecting; try again shortly', {
          retryAfter: 2,
        }),
      );
    }
  }
  ctx.sessions.onSessionCreated((session) => {
    session.on('stanza', onStanza);
    session.on('state', onState);
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
    sendRoutes: ROOM_SEND_ROUTES,
    routes(router, access) {
      discoveryRoutes(router, access, { registry, messages, naming, admin: ctx.admin });
      roomRoutes(router, access, { service, registry, naming });
    },
  };
}
