import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { requireStream, type AccessDeps } from '../http/access.js';
import { readBody, validate } from '../http/body.js';
import { parseNick, parseRoom, type RoomNaming } from '../rooms/index.js';
import type { BookmarkService } from './BookmarkService.js';

const Body = z
  .object({
    name: z.string().max(1024).nullable().optional(),
    autojoin: z.boolean().default(false),
    nick: z.string().max(1023).nullable().optional(),
    password: z.string().max(1024).nullable().optional(),
  })
  .strict();
const Query = z.object({ service: z.string().optional(), servicename: z.string().optional() }).strict();

/**
 * Room bookmarks of the session's user (docs/api/rooms.md#bookmarks):
 *   GET    /restapi/v1/chat/{streamid}/bookmarks          every bookmark
 *   GET    /restapi/v1/chat/{streamid}/bookmarks/{room}   one (404 without)
 *   PUT    /restapi/v1/chat/{streamid}/bookmarks/{room}   add or replace → 201 new / 200 replaced
 *   DELETE /restapi/v1/chat/{streamid}/bookmarks/{room}   remove (404 without)
 * `{room}` is a room name of the MUC service (or `?service=`) or a room's bare JID, as in the room routes.
 */
export function bookmarkRoutes(
  router: Router,
  access: AccessDeps,
  deps: { bookmarks: BookmarkService; naming: RoomNaming },
): void {
  const { bookmarks } = deps;
  const room = (ctx: Context): string => {
    const q = validate(Query, ctx.query, 'query');
    return parseRoom(ctx.params.room!, q.service ?? q.servicename, deps.naming).jid;
  };

  router.get('/restapi/v1/chat/:streamid/bookmarks', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    ctx.body = { bookmarks: await bookmarks.list(session) };
  });

  router.get('/restapi/v1/chat/:streamid/bookmarks/:room', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    ctx.body = await bookmarks.get(session, room(ctx));
  });

  router.put('/restapi/v1/chat/:streamid/bookmarks/:room', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    const jid = room(ctx);
    const body = readBody(ctx);
    if (body.kind === 'text')
      throw new BridgeError('UNSUPPORTED_MEDIA_TYPE', 'send the bookmark as application/json');
    const b = validate(Body, body.kind === 'json' ? body.value : {});
    const bookmark = {
      jid,
      name: b.name || null,
      autojoin: b.autojoin,
      nick: b.nick ? parseNick(b.nick) : null,
      password: b.password || null,
    };
    const created = await bookmarks.set(session, bookmark);
    ctx.status = created ? 201 : 200;
    ctx.body = bookmark;
  });

  router.delete('/restapi/v1/chat/:streamid/bookmarks/:room', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    await bookmarks.remove(session, room(ctx));
    ctx.status = 204;
  });
}
