import type Router from '@koa/router';
import { BridgeError } from '../errors/BridgeError.js';
import type { Context } from 'koa';
import { callerOf, requireUser, type AccessDeps } from '../http/access.js';
import { parseUsername } from '../http/params.js';
import type { AdminConnection } from '../xmpp/admin/AdminConnection.js';
import { parseRoom, parseService, type RoomNaming } from './names.js';
import { askerFor, listRooms, occupants, participants, roomInfo, type RoomCaller } from './RoomDirectory.js';
import type { RoomRegistry } from './RoomState.js';
import type { RoomReader } from '../messages/MessageLog.js';
import { cursor, integer, query } from './requests.js';

export interface DiscoveryRoutesDeps {
  registry: RoomRegistry;
  messages: Pick<RoomReader, 'roomHistory'>;
  naming: RoomNaming;
  admin?: AdminConnection;
}

const BASE = '/restapi/v1/chat/rooms';

/**
 * Rooms seen from outside (ofchat's paths, reference §1.5 rows 16–20), for any authenticated caller:
 *   GET {BASE}                          rooms of a MUC service (disco#items)
 *   GET {BASE}/{room}                   one room (disco#info: features, occupant count)
 *   GET {BASE}/{room}/occupants         who is in it (role lists)
 *   GET {BASE}/{room}/participants      owners, admins, members, outcasts (affiliation lists)
 *   GET {BASE}/{room}/chathistory       stored history from Postgres, in cursor pages
 * Registered before `/restapi/v1/chat/:streamid`, which would otherwise take `rooms` for a stream id.
 */
export function discoveryRoutes(router: Router, access: AccessDeps, deps: DiscoveryRoutesDeps): void {
  const room = (ctx: Context) =>
    parseRoom(ctx.params.room!, query(ctx, 'servicename', 'service'), deps.naming);

  router.get(BASE, async (ctx) => {
    const caller = await identify(ctx, access);
    const service = parseService(query(ctx, 'servicename', 'service'), deps.naming);
    const type = query(ctx, 'type') ?? 'public';
    if (type !== 'public' && type !== 'all')
      throw new BridgeError('BAD_REQUEST', '?type= must be public or all');
    const rooms = await listRooms(askerFor(caller, deps.admin), service, query(ctx, 'search'));
    ctx.body = { service, rooms };
  });

  router.get(`${BASE}/:room`, async (ctx) => {
    const caller = await identify(ctx, access);
    const addr = room(ctx);
    const info = await roomInfo(askerFor(caller, deps.admin), addr);
    const mine = caller.session ? deps.registry.of(caller.session).rooms.get(addr.jid) : undefined;
    ctx.body = {
      ...info,
      room: addr.name,
      service: addr.service,
      subject: info.subject ?? mine?.subject ?? null,
    };
  });

  router.get(`${BASE}/:room/occupants`, async (ctx) => {
    const caller = await identify(ctx, access);
    const addr = room(ctx);
    ctx.body = {
      room: addr.jid,
      occupants: await occupants(askerFor(caller, deps.admin), addr, caller, deps.registry, () =>
        access.sessions.all(),
      ),
    };
  });

  router.get(`${BASE}/:room/participants`, async (ctx) => {
    const caller = await identify(ctx, access);
    const addr = room(ctx);
    ctx.body = {
      room: addr.jid,
      participants: await participants(askerFor(caller, deps.admin), addr),
    };
  });

  router.get(`${BASE}/:room/chathistory`, async (ctx) => {
    const caller = await identify(ctx, access);
    const addr = room(ctx);
    const asked = query(ctx, 'username');
    const username = asked === undefined ? undefined : parseUsername(asked);
    if (!caller.master && username !== undefined && username !== caller.username) {
      throw new BridgeError(
        'FORBIDDEN',
        `${caller.username} may not read the room history stored for ${username}`,
      );
    }
    // A user reads what their own sessions stored; the master secret reads one user's, or the room as Parley saw it.
    const owner = caller.master ? username : caller.username;
    const before = cursor(ctx, 'before');
    const after = cursor(ctx, 'after');
    if (before !== undefined && after !== undefined)
      throw new BridgeError('BAD_REQUEST', 'send ?before= or ?after=, not both');
    ctx.body = {
      room: addr.jid,
      ...(await deps.messages.roomHistory({
        room: addr.jid,
        owner,
        before,
        after,
        limit: integer(ctx, 'limit', 1, 500, 50),
      })),
    };
  });
}

/** The caller of a route that names no stream: master secret, or a user with their live session, if any. */
async function identify(ctx: Context, access: AccessDeps): Promise<RoomCaller> {
  const caller = callerOf(ctx);
  switch (caller.kind) {
    case 'master':
      return { master: true };
    case 'anonymous':
      throw new BridgeError(
        'UNAUTHENTICATED',
        'send Basic credentials, a session token or the master secret',
      );
    case 'basic': {
      const username = parseUsername(caller.username);
      await requireUser(ctx, access, username);
      return { master: false, username, session: access.sessions.byUser(username) };
    }
    case 'token': {
      const owner = await access.sessions.tokenOwner(caller);
      if (!owner || owner.ended) throw new BridgeError('BAD_CREDENTIALS', 'unknown or expired session token');
      return { master: false, username: owner.username, session: access.sessions.get(owner.streamId) };
    }
  }
}
