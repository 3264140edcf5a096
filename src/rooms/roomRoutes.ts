import type Router from '@koa/router';
import type { Context } from 'koa';
import { BridgeError } from '../errors/BridgeError.js';
import { requireStream, type AccessDeps } from '../http/access.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import * as moderation from './moderation.js';
import { parseNick, parseRoom, type RoomAddress, type RoomNaming } from './names.js';
import { roomView, type RoomRegistry } from './RoomState.js';
import type { RoomService } from './RoomService.js';
import type { RoomOptions } from '../xmpp/muc/stanzas.js';
import {
  AffiliationBody,
  RoleBody,
  flag,
  integer,
  query,
  readInvite,
  readJoinBody,
  readJson,
  readPost,
} from './requests.js';

export interface RoomRoutesDeps {
  service: RoomService;
  registry: RoomRegistry;
  naming: RoomNaming;
}

const BASE = '/restapi/v1/chat/:streamid/rooms';
/** The routes that send through the session: a post to the room, a private message (Feature.sendRoutes). */
export const ROOM_SEND_ROUTES = [`${BASE}/:room`, `${BASE}/:room/occupants/:nick/messages`] as const;

/**
 * What a session does in rooms (ofchat's paths, reference §1.5 rows 21–24, plus moderation):
 *   GET    {BASE}                                   rooms this session is in
 *   PUT    {BASE}/{room}                            join (creating it, with options)
 *   POST   {BASE}/{room}                            post (text, or JSON `body` / `data`) or change the subject
 *   DELETE {BASE}/{room}                            leave (?destroy=true: destroy the room)
 *   POST   {BASE}/{room}/{jid}                      invite
 *   POST   {BASE}/{room}/occupants/{nick}/messages  private message to one occupant
 *   DELETE {BASE}/{room}/occupants/{nick}           kick
 *   PUT    {BASE}/{room}/roles/{nick}               set role (moderator, participant, visitor, none)
 *   PUT    {BASE}/{room}/affiliations/{jid}         set affiliation (owner, admin, member, none, outcast = ban)
 */
export function roomRoutes(router: Router, access: AccessDeps, deps: RoomRoutesDeps): void {
  const target = async (ctx: Context): Promise<{ session: UserSession; addr: RoomAddress }> => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    return { session, addr: parseRoom(ctx.params.room!, query(ctx, 'service', 'servicename'), deps.naming) };
  };

  router.get(BASE, async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    ctx.body = {
      rooms: [...deps.registry.of(session).rooms.values()]
        .map(roomView)
        .sort((a, b) => a.room.localeCompare(b.room)),
    };
  });

  router.put(`${BASE}/:room`, async (ctx) => {
    const { session, addr } = await target(ctx);
    const body = readJoinBody(ctx);
    // Query strings end up in access logs and browser history: the room password travels in the body only.
    if (ctx.query.password !== undefined) {
      const message = 'send the room password in the JSON body ({"password": "..."}), not in the URL';
      throw new BridgeError('VALIDATION_FAILED', `query.password: ${message}`, {
        errors: [{ path: 'query.password', message }],
      });
    }
    const password = body.password;
    const options: RoomOptions = {
      persistent: body.persistent,
      public: body.public,
      membersOnly: body.membersOnly,
      moderated: body.moderated,
      name: body.name,
      description: body.description,
      password,
    };
    const { room, created } = await deps.service.join(session, addr, {
      nick: parseNick(body.nick ?? query(ctx, 'nick') ?? session.username),
      password,
      create: flag(ctx, 'create', true),
      maxStanzas: body.history ?? integer(ctx, 'history', 0, 1000, 20),
      options,
      subject: body.subject,
    });
    ctx.status = created ? 201 : 200;
    ctx.body = { ...roomView(room), created };
  });

  router.post(ROOM_SEND_ROUTES[0], async (ctx) => {
    const { session, addr } = await target(ctx);
    const post = readPost(ctx, true);
    if (post.kind === 'subject') {
      await deps.service.setSubject(session, addr, post.subject);
      ctx.status = 204;
      return;
    }
    const posted = await deps.service.post(session, addr, post.input);
    ctx.status = posted.stored ? 201 : 202;
    ctx.body = posted;
  });

  router.delete(`${BASE}/:room`, async (ctx) => {
    const { session, addr } = await target(ctx);
    if (flag(ctx, 'destroy', false)) await moderation.destroy(session, addr, query(ctx, 'reason'));
    else await deps.service.leave(session, addr);
    ctx.status = 204;
  });

  router.post(ROOM_SEND_ROUTES[1], async (ctx) => {
    const { session, addr } = await target(ctx);
    const nick = parseNick(ctx.params.nick!);
    const post = readPost(ctx, false);
    if (post.kind !== 'message') return; // readPost(…, false) never answers a subject change
    ctx.status = 201;
    ctx.body = await deps.service.sendPrivate(session, addr, nick, post.input);
  });

  router.delete(`${BASE}/:room/occupants/:nick`, async (ctx) => {
    const { session, addr } = await target(ctx);
    await moderation.setRole(session, addr, parseNick(ctx.params.nick!), 'none', query(ctx, 'reason'));
    ctx.status = 204;
  });

  router.put(`${BASE}/:room/roles/:nick`, async (ctx) => {
    const { session, addr } = await target(ctx);
    const nick = parseNick(ctx.params.nick!);
    const body = readJson(ctx, RoleBody);
    await moderation.setRole(session, addr, nick, body.role, body.reason);
    ctx.status = 204;
  });

  router.put(`${BASE}/:room/affiliations/:jid`, async (ctx) => {
    const { session, addr } = await target(ctx);
    const body = readJson(ctx, AffiliationBody);
    await moderation.setAffiliation(
      session,
      deps.naming.domain,
      addr,
      ctx.params.jid!,
      body.affiliation,
      body.reason,
    );
    ctx.status = 204;
  });

  // ofchat's invitation path: the invitee's JID (or username) right after the room.
  router.post(`${BASE}/:room/:jid`, async (ctx) => {
    const { session, addr } = await target(ctx);
    const body = readInvite(ctx);
    await deps.service.invite(session, addr, ctx.params.jid!, body);
    ctx.status = 204;
  });
}
