import type Router from '@koa/router';
import type { BbbBridge } from '../BbbBridge.js';
import { BbbApiError, answer, need, optional, readParams, verifyCall, type AuthDeps } from './bbbRequest.js';
import { LIMITS } from './v1Routes.js';

/**
 * The common chat-bridge API of BBB-Chat v2, xmpp-chat and bbb-stream-chat (reference §1.2), signed
 * with RCP salted with the endpoint name. `chat_id` is the meeting id (external or internal).
 * runningChats takes no checksum, as in bbb-chat; one given in the query is checked.
 */
export function v2Routes(router: Router, deps: { bridge: BbbBridge; auth: AuthDeps }): void {
  const { bridge, auth } = deps;

  router.post('/api/startChat', (ctx) =>
    answer(ctx, auth, async () => {
      const p = await verifyCall(auth, 'rcp', 'startChat', await readParams(ctx));
      const meetingId = need(p, 'chat_id', LIMITS.id);
      const chatUser = need(p, 'chat_user', LIMITS.name);
      const trio = [
        optional(p, 'callback_uri', LIMITS.uri),
        optional(p, 'callback_secret', LIMITS.secret),
        optional(p, 'callback_id', LIMITS.id),
      ];
      if (trio.some(Boolean) && !trio.every(Boolean))
        throw new BbbApiError(400, 'callback_uri, callback_secret and callback_id must be given together.');
      const [uri, secret, id] = trio as [string, string, string];
      const r = await bridge.startChat({
        apiVersion: 2,
        meetingId,
        chatUser,
        callback: uri ? { uri, secret, id } : undefined,
      });
      return r === 'exists'
        ? { status: 409, message: 'Chat is already registered' }
        : 'Chat registered successfully';
    }),
  );

  router.post('/api/sendMessage', (ctx) =>
    answer(ctx, auth, async () => {
      const p = await verifyCall(auth, 'rcp', 'sendMessage', await readParams(ctx));
      await bridge.send(
        need(p, 'chat_id', LIMITS.id),
        need(p, 'user_name', LIMITS.name),
        need(p, 'message', LIMITS.message),
      );
      return 'Message sent';
    }),
  );

  router.post('/api/endChat', (ctx) =>
    answer(ctx, auth, async () => {
      const p = await verifyCall(auth, 'rcp', 'endChat', await readParams(ctx));
      return (await bridge.endChat(need(p, 'chat_id', LIMITS.id)))
        ? 'Chat ended'
        : { status: 404, message: 'Chat was not found' };
    }),
  );

  router.get('/api/runningChats', (ctx) =>
    answer(ctx, auth, async () => {
      const checksum = ctx.query.checksum;
      if (checksum !== undefined) await verifyCall(auth, 'rcp', 'runningChats', { checksum });
      const ids = bridge.running();
      return { json: { count: ids.length, chat_ids: ids } };
    }),
  );
}
