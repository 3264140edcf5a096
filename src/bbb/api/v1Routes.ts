import type Router from '@koa/router';
import type { BbbBridge } from '../BbbBridge.js';
import { BbbApiError, answer, need, optional, readParams, verifyCall, type AuthDeps } from './bbbRequest.js';

/** BBB's own limits: 255-character names (bbb-web), 5000-character chat messages (the html5 client). */
export const LIMITS = { id: 255, name: 255, message: 5000, uri: 2048, secret: 255 } as const;

/**
 * BBB-Chat API v1 (reference §1.1): checksum = sha512(call + Python json.dumps(params without checksum)
 * + secret + epoch). `sendChatMessage` carries the meeting id in the path, where v1 never signed it; a
 * `meeting_id` in the body (then signed) must name the same meeting, and a checksum is accepted once
 * only, so a captured call cannot be replayed into another meeting.
 */
export function v1Routes(router: Router, deps: { bridge: BbbBridge; auth: AuthDeps }): void {
  const { bridge, auth } = deps;

  router.post('/api/startChatForMeeting', (ctx) =>
    answer(ctx, auth, async () => {
      const p = await verifyCall(auth, 'v1', 'startChatForMeeting', await readParams(ctx));
      const meetingId = need(p, 'meeting_id', LIMITS.id);
      const chatUser = need(p, 'chat_user', LIMITS.name);
      const uri = optional(p, 'callback_uri', LIMITS.uri);
      const secret = optional(p, 'callback_secret', LIMITS.secret);
      if (!uri !== !secret)
        throw new BbbApiError(400, 'callback_uri and callback_secret must be given together.');
      const r = await bridge.startChat({
        apiVersion: 1,
        meetingId,
        chatUser,
        callback: uri && secret ? { uri, secret } : undefined,
      });
      return r === 'exists'
        ? { status: 409, message: 'Chat is already registered.' }
        : 'Chat registered successfully.';
    }),
  );

  router.post('/api/endChatForMeeting', (ctx) =>
    answer(ctx, auth, async () => {
      const p = await verifyCall(auth, 'v1', 'endChatForMeeting', await readParams(ctx));
      const meetingId = need(p, 'meeting_id', LIMITS.id);
      return (await bridge.endChat(meetingId))
        ? 'Chat ended.'
        : { status: 404, message: 'Chat was not found.' };
    }),
  );

  router.post('/api/sendChatMessage/:meeting_id', (ctx) =>
    answer(ctx, auth, async () => {
      const p = await verifyCall(auth, 'v1', 'sendChatMessage', await readParams(ctx));
      const meetingId = ctx.params.meeting_id!;
      if (p.meeting_id !== undefined && p.meeting_id !== meetingId)
        throw new BbbApiError(400, 'meeting_id in the body does not match the path.');
      await bridge.send(meetingId, need(p, 'user_name', LIMITS.name), need(p, 'message', LIMITS.message));
      return 'Message sent.';
    }),
  );
}
