import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { requireStream, requireUser, type AccessDeps } from '../http/access.js';
import { readBody, validate } from '../http/body.js';
import { parseEventId, parseUsername } from '../http/params.js';
import { parseJid } from '../xmpp/jid.js';
import type { CallService } from './CallService.js';
import type { CapabilityService } from './CapabilityService.js';
import { JINGLE_CONDITIONS, type CallOptions } from './types.js';

/**
 * Call signalling routes (docs/api/calls.md). Bodies are the care-messenger seed's CallOptions; the seed
 * sends the whole object with every event, so its `initiator` and `target` are accepted and ignored
 * (the parties are the session's user and the path's JID).
 */
const Seed = { initiator: z.unknown().optional(), target: z.unknown().optional() };
const Options = z
  .object({
    audioOnly: z.boolean().default(false),
    roomName: z.string().min(1).max(256).optional(),
    roomSid: z.string().min(1).max(256).optional(),
    autoAccept: z.boolean().default(false),
    acceptAfter: z.number().int().min(0).max(3600).optional(),
    declineReason: z.string().max(1024).optional(),
    ...Seed,
  })
  .strict();
const Decline = z
  .object({ declineReason: z.string().max(1024).optional(), condition: z.enum(JINGLE_CONDITIONS).optional() })
  .passthrough();
const End = z.object({ reason: z.string().max(1024).optional() }).passthrough();
const History = z
  .object({
    with: z.string().min(1).max(3071).optional(),
    active: z.enum(['true', 'false']).optional(),
    before: z.string().optional(),
    after: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export interface CallRoutesDeps {
  calls: CallService;
  caps: CapabilityService;
  domain: string;
}

export function callRoutes(router: Router, access: AccessDeps, deps: CallRoutesDeps): void {
  const { calls } = deps;
  const stream = (ctx: Context) => requireStream(ctx, access, ctx.params.streamid!);

  router.get('/restapi/v1/chat/:username/calls', async (ctx) => {
    const owner = parseUsername(ctx.params.username!);
    await requireUser(ctx, access, owner);
    const q = validate(History, ctx.query, 'query');
    ctx.body = await calls.history({
      owner,
      limit: q.limit,
      active: q.active === 'true',
      peer: q.with ? parseJid(q.with, deps.domain, 'contact JID').bare : undefined,
      before: parseEventId(q.before),
      after: parseEventId(q.after),
    });
  });

  router.post('/restapi/v1/chat/:streamid/calls/:to', async (ctx) => {
    const session = await stream(ctx);
    const o = validate(Options, jsonBody(ctx));
    const options: CallOptions = { audioOnly: o.audioOnly, autoAccept: o.autoAccept };
    if (o.roomName) options.roomName = o.roomName;
    if (o.roomSid) options.roomSid = o.roomSid;
    if (o.acceptAfter !== undefined) options.acceptAfter = o.acceptAfter;
    ctx.status = 201;
    ctx.body = await calls.start(session, ctx.params.to!, options);
  });

  router.post('/restapi/v1/chat/:streamid/calls/:id/ringing', async (ctx) => {
    ctx.body = await calls.act(await stream(ctx), callId(ctx), { kind: 'ringing' });
  });

  router.post('/restapi/v1/chat/:streamid/calls/:id/accept', async (ctx) => {
    ctx.body = await calls.act(await stream(ctx), callId(ctx), { kind: 'accept' });
  });

  router.post('/restapi/v1/chat/:streamid/calls/:id/decline', async (ctx) => {
    const session = await stream(ctx);
    const b = validate(Decline, jsonBody(ctx));
    ctx.body = await calls.act(session, callId(ctx), {
      kind: 'decline',
      declineReason: b.declineReason,
      condition: b.condition,
    });
  });

  router.post('/restapi/v1/chat/:streamid/calls/:id/end', async (ctx) => {
    const session = await stream(ctx);
    const b = validate(End, jsonBody(ctx));
    ctx.body = await calls.act(session, callId(ctx), { kind: 'end', reason: b.reason });
  });

  router.get('/restapi/v1/chat/:streamid/contacts/:jid/capabilities', async (ctx) => {
    const session = await stream(ctx);
    const jid = parseJid(ctx.params.jid!, deps.domain, 'contact JID');
    if (jid.resource !== undefined)
      throw new BridgeError('INVALID_JID', "give the contact's bare JID; every online resource is reported");
    ctx.body = await deps.caps.of(session, jid.bare);
  });
}

/** Call ids come from Parley (UUIDs) or from other clients (any string): bounded, never parsed further. */
function callId(ctx: Context): string {
  const id = ctx.params.id!;
  if (id.length > 256) throw new BridgeError('NOT_FOUND', 'no such call');
  return id;
}

function jsonBody(ctx: Context): unknown {
  const body = readBody(ctx);
  if (body.kind === 'json') return body.value;
  if (body.kind === 'none') return {};
  throw new BridgeError('UNSUPPORTED_MEDIA_TYPE', 'send application/json (or no body)');
}
