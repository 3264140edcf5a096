import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { BridgeError } from '../../errors/BridgeError.js';
import { callerOf, requireStream, requireUser, type AccessDeps } from '../../http/access.js';
import { readBody, validate } from '../../http/body.js';
import { parseUsername } from '../../http/params.js';
import type { UserSession } from '../../xmpp/client/UserSession.js';
import type { AgentDesk } from '../AgentDesk.js';
import type { RequestStore } from '../RequestStore.js';
import { AGENT_SHOWS, type AgentShow } from '../xep0142.js';

const DutyBody = z
  .object({
    show: z.enum(AGENT_SHOWS as [AgentShow, ...AgentShow[]]).optional(),
    maxChats: z.number().int().min(1).max(100).optional(),
    status: z.string().max(500).optional(),
  })
  .strict();

/**
 * Agents (ofchat's paths, reference §1.5 rows 25–30, and the seed README's accept/reject form):
 *   GET    /chat/{streamid}/assists                      workgroups the user is an agent of
 *   GET    /chat/{streamid}/assists/queues               the queues, as agents see them
 *   POST   /chat/{streamid}/assists/{workgroup}          go on duty (agent presence; JSON {show, maxChats, status} optional)
 *   DELETE /chat/{streamid}/assists/{workgroup}          go off duty
 *   POST   /chat/{streamid}/offer/{id}                   accept an offer
 *   DELETE /chat/{streamid}/offer/{id}                   reject an offer
 *   PUT    /chat/assists/{workgroup}/{offerId}           accept (seed README form; the caller's live session)
 *   DELETE /chat/assists/{workgroup}/{offerId}           reject (same)
 */
export function agentRoutes(
  router: Router,
  access: AccessDeps,
  deps: { desk: AgentDesk; requests: RequestStore; domain: string },
): void {
  const { desk } = deps;
  const base = '/restapi/v1/chat/:streamid';

  // The streamless form first: "assists" is not a stream id.
  router.put('/restapi/v1/chat/assists/:workgroup/:offerId', async (ctx) => {
    const session = await ownSession(ctx, access, deps);
    ctx.body = await desk.answer(session, ctx.params.offerId!, 'offer-accept', ctx.params.workgroup!);
  });

  router.delete('/restapi/v1/chat/assists/:workgroup/:offerId', async (ctx) => {
    const session = await ownSession(ctx, access, deps);
    await desk.answer(session, ctx.params.offerId!, 'offer-reject', ctx.params.workgroup!);
    ctx.status = 204;
  });

  router.get(`${base}/assists`, async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    ctx.body = { workgroups: await desk.assists(session) };
  });

  router.get(`${base}/assists/queues`, async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    ctx.body = { queues: await desk.queues(session) };
  });

  router.post(`${base}/assists/:workgroup`, async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    const body = readBody(ctx);
    if (body.kind === 'text' && body.text.trim() !== '')
      throw new BridgeError('VALIDATION_FAILED', 'send JSON {show, maxChats, status} or no body', {
        errors: [{ path: 'body', message: 'expected JSON' }],
      });
    const duty = body.kind === 'json' ? validate(DutyBody, body.value) : {};
    ctx.body = await desk.onDuty(session, ctx.params.workgroup!, {
      show: duty.show ?? 'available',
      maxChats: duty.maxChats,
      status: duty.status,
    });
  });

  router.delete(`${base}/assists/:workgroup`, async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    await desk.offDuty(session, ctx.params.workgroup!);
    ctx.status = 204;
  });

  router.post(`${base}/offer/:id`, async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    ctx.body = await desk.answer(session, ctx.params.id!, 'offer-accept');
  });

  router.delete(`${base}/offer/:id`, async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    await desk.answer(session, ctx.params.id!, 'offer-reject');
    ctx.status = 204;
  });
}

/**
 * The live session of whoever calls the streamless form: a session token's own stream, Basic
 * credentials' user, or with the master secret the agent the offer was made to.
 */
async function ownSession(
  ctx: Context,
  access: AccessDeps,
  deps: { requests: RequestStore; domain: string },
): Promise<UserSession> {
  const caller = callerOf(ctx);
  let username: string;
  if (caller.kind === 'token') {
    const owner = await access.sessions.tokenOwner(caller);
    if (!owner || owner.ended) throw new BridgeError('BAD_CREDENTIALS', 'unknown or expired session token');
    username = owner.username;
  } else if (caller.kind === 'basic') {
    username = parseUsername(caller.username);
    await requireUser(ctx, access, username);
  } else if (caller.kind === 'master') {
    const offer = /^of[0-9a-f]{16}$/.test(ctx.params.offerId ?? '')
      ? await deps.requests.offer(ctx.params.offerId!)
      : undefined;
    if (!offer) throw new BridgeError('NOT_FOUND', 'with the master secret, name the offer by its offerId');
    const [local, domain] = offer.agentJid.split('@');
    if (domain !== deps.domain)
      throw new BridgeError('NOT_FOUND', `${offer.agentJid} is not a user of this server`);
    username = local!;
  } else {
    throw new BridgeError('UNAUTHENTICATED', 'send a session token, Basic credentials or the master secret');
  }
  const session = access.sessions.byUser(username);
  if (!session) throw new BridgeError('STREAM_NOT_FOUND', `${username} has no live session; log in first`);
  session.touch();
  return session;
}
