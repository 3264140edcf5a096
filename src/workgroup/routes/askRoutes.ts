import { publicBase } from '../../http/publicBase.js';
import type Router from '@koa/router';
import { z } from 'zod';
import { BridgeError } from '../../errors/BridgeError.js';
import { readBody, validate } from '../../http/body.js';
import { parseWorkgroupName } from '../settings.js';
import { take, type Limiter } from '../../limits/limiter.js';
import { VISITOR_ID, visitorRequest } from './visitorAccess.js';
import { askEventRoutes, type AskEventRoutesDeps } from './askEventRoutes.js';

export interface AskRoutesDeps extends AskEventRoutesDeps {
  publicUrl?: string;
  /** new requests per client address and per workgroup (PARLEY_ASK_PER_*_PER_MINUTE) */
  rate: { perIp: Limiter; perWorkgroup: Limiter };
  /** the longest `Prefer: wait=` POST /ask honours, in seconds (default 600) */
  maxWaitSeconds?: number;
  /** does the workgroup exist (checked before its counter, so made-up names make no counters) */
  requireWorkgroup: (name: string) => Promise<unknown>;
}

const BASE = '/restapi/v1/ask';
const MAX_TEXT = 64 * 1024;

const AskBody = z
  .object({
    workgroup: z.string().min(1).max(64),
    userID: z
      .string()
      .regex(VISITOR_ID, 'must be 1–64 letters, digits or . _ - + @')
      .refine((v) => v.toLowerCase() !== 'admin', 'is reserved'),
    emailAddress: z.email().max(320),
    question: z.string().min(1).max(4000),
    nickname: z.string().min(1).max(64).optional(),
    product: z.string().max(200).optional(),
    company: z.string().max(200).optional(),
    state: z.string().max(200).optional(),
    country: z.string().max(200).optional(),
  })
  // ofchat: "additional data can be added" — unknown fields are ignored, not refused.
  .strip();
const PostBody = z.object({ body: z.string().min(1).max(MAX_TEXT) }).passthrough();

/** `Prefer: wait=N` in seconds (RFC 7240 §4.3), capped; 0 without one. */
export function preferredWait(header: string, max: number): number {
  const m = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i.exec(header);
  return m ? Math.min(Number(m[1]), max) : 0;
}

/**
 * The visitor side (ofchat `restapi/v1/ask`, reference §1.6), for people without an account:
 *   POST   /ask                  join a workgroup's queue → 202 with the position and a visitor token
 *   GET    /ask/{userId}         where the request stands
 *   DELETE /ask/{userId}         cancel (while queued or offered) or leave the room
 *   POST   /ask/{userId}         join the assistance room once an agent took the request
 *   PUT    /ask/{userId}         post in the room (text, or JSON with `body`)
 *   GET    /ask/{userId}/events  the visitor's event stream, and POST …/events/ticket (askEventRoutes.ts)
 * Visitor routes take the token from POST /ask (`Authorization: Bearer …`), or the master secret.
 */
export function askRoutes(router: Router, deps: AskRoutesDeps): void {
  const { ask } = deps;

  router.post(BASE, async (ctx) => {
    // No account is needed here, so what one address and one workgroup may ask is counted (429 beyond).
    await take(
      deps.rate.perIp,
      String(ctx.state.clientAddress),
      'RATE_LIMITED',
      'too many requests from this address',
    );
    const body = readBody(ctx);
    if (body.kind !== 'json')
      throw new BridgeError('VALIDATION_FAILED', 'send the request as JSON', {
        errors: [{ path: 'body', message: 'expected a JSON object' }],
      });
    const input = validate(AskBody, body.value);
    const extra = Object.fromEntries(
      ['nickname', 'product', 'company', 'state', 'country'].flatMap((k) =>
        input[k as keyof typeof input] ? [[k, String(input[k as keyof typeof input])]] : [],
      ),
    );
    const workgroup = parseWorkgroupName(input.workgroup);
    await deps.requireWorkgroup(workgroup);
    await take(deps.rate.perWorkgroup, workgroup, 'RATE_LIMITED', `too many new requests for ${workgroup}`);
    const { request, token } = await ask.ask({
      workgroup,
      userId: input.userID,
      email: input.emailAddress,
      question: input.question,
      ...extra,
    });
    const self = `${publicBase(ctx, deps.publicUrl)}${BASE}/${encodeURIComponent(request.userId)}`;
    // `Prefer: wait=N` (RFC 7240): hold the answer until an expert took the request (ofchat's long poll).
    const wait = preferredWait(ctx.get('Prefer'), deps.maxWaitSeconds ?? 600);
    let current = request;
    if (wait > 0) {
      current = await ask.waitForRoom(request, wait * 1000, () => ctx.req.socket.destroyed);
      ctx.set('Preference-Applied', `wait=${wait}`);
    }
    const settled =
      current.status !== 'queued' && current.status !== 'offered' && current.status !== 'accepted';
    ctx.status = wait > 0 && settled ? 200 : 202;
    ctx.set('Location', self);
    // `lastEventId=0`: a stream opened from it replays what happened since the request was made.
    ctx.body = { ...(await ask.view(current)), token, events: `${self}/events?lastEventId=0` };
    // The ofchat face (ctx.state.face, set by http/ofchat) answers a wait that ran out with ofchat's timeout
    // error: the request is withdrawn, so no expert is offered a visitor who was told nobody came.
    const waiting = current.status === 'queued' || current.status === 'offered';
    if (wait > 0 && waiting && ctx.state.face === 'ofchat') await ask.end(current);
  });

  router.get(`${BASE}/:userId`, async (ctx) => {
    ctx.body = await ask.view(await visitorRequest(ctx, ask, ctx.params.userId!));
  });

  router.delete(`${BASE}/:userId`, async (ctx) => {
    await ask.end(await visitorRequest(ctx, ask, ctx.params.userId!));
    ctx.status = 204;
  });

  router.post(`${BASE}/:userId`, async (ctx) => {
    ctx.body = await ask.join(await visitorRequest(ctx, ask, ctx.params.userId!));
  });

  router.put(`${BASE}/:userId`, async (ctx) => {
    const r = await visitorRequest(ctx, ask, ctx.params.userId!);
    const body = readBody(ctx);
    let input: { body: string; data?: unknown };
    if (body.kind === 'json') input = { body: validate(PostBody, body.value).body, data: body.value };
    else if (body.kind === 'text' && body.text !== '') input = { body: body.text };
    else
      throw new BridgeError('VALIDATION_FAILED', 'send the message as text/plain, or JSON with a "body"', {
        errors: [{ path: 'body', message: 'required' }],
      });
    if (input.body.length > MAX_TEXT)
      throw new BridgeError('BODY_TOO_LARGE', `a message may have at most ${MAX_TEXT} characters`);
    ctx.status = 202; // the room's echo arrives as a chatapi.ask groupchat event
    ctx.body = await ask.post(r, input.body, input.data);
  });

  askEventRoutes(router, deps);
}
