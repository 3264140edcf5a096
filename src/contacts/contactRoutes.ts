import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { requireStream, type AccessDeps } from '../http/access.js';
import { readBody, validate } from '../http/body.js';
import { parseJid } from '../xmpp/jid.js';
import type { BlockingService } from './BlockingService.js';
import type { PresenceService } from './PresenceService.js';
import { parsePresenceQuery } from './presence.js';
import type { RosterService } from './RosterService.js';

/**
 * Presence, contacts (roster), subscription answers and blocking for one session. Routers only
 * parse, authorize and call; the services speak XMPP.
 */
export interface ContactRoutesDeps {
  presence: PresenceService;
  roster: RosterService;
  blocking: BlockingService;
  domain: string;
}

const Group = z.string().trim().min(1).max(256);
/** ofchat's RosterItemEntity; read-only fields a client may echo back from GET are accepted and ignored. */
const ContactFields = {
  nickname: z.string().max(256).nullable().optional(),
  groups: z.array(Group).max(64).optional(),
  subscriptionType: z.number().int().optional(),
  subscription: z.string().optional(),
  pending: z.boolean().optional(),
  show: z.string().optional(),
  status: z.string().nullable().optional(),
};
const NewContact = z
  .object({ jid: z.string().min(1).max(3071), subscribe: z.boolean().optional(), ...ContactFields })
  .strict();
const ContactUpdate = z.object({ jid: z.string().max(3071).optional(), ...ContactFields }).strict();

export function contactRoutes(router: Router, access: AccessDeps, deps: ContactRoutesDeps): void {
  const stream = (ctx: Context) => requireStream(ctx, access, ctx.params.streamid!);
  const contactJid = (raw: string) => parseContactJid(raw, deps.domain);

  router.post('/restapi/v1/chat/:streamid/presence', async (ctx) => {
    const session = await stream(ctx);
    const own = parsePresenceQuery(ctx.query);
    ctx.body = await deps.presence.set(session, own);
  });

  router.get('/restapi/v1/chat/:streamid/presence', async (ctx) => {
    const session = await stream(ctx);
    ctx.body = { own: deps.presence.own(session), contacts: deps.presence.snapshot(session) };
  });

  router.get('/restapi/v1/chat/:streamid/contacts', async (ctx) => {
    const session = await stream(ctx);
    const group = typeof ctx.query.group === 'string' && ctx.query.group !== '' ? ctx.query.group : undefined;
    ctx.body = { contacts: await deps.roster.list(session, group) };
  });

  router.post('/restapi/v1/chat/:streamid/contacts', async (ctx) => {
    const session = await stream(ctx);
    const body = validate(NewContact, jsonBody(ctx));
    const jid = contactJid(body.jid);
    const { item, created } = await deps.roster.add(session, jid, body, body.subscribe ?? true);
    ctx.status = created ? 201 : 200;
    ctx.body = item;
  });

  router.put('/restapi/v1/chat/:streamid/contacts/:jid', async (ctx) => {
    const session = await stream(ctx);
    const jid = contactJid(ctx.params.jid!);
    const body = validate(ContactUpdate, jsonBody(ctx));
    if (body.jid !== undefined && contactJid(body.jid) !== jid)
      throw new BridgeError('BAD_REQUEST', "the body's jid differs from the one in the path");
    ctx.body = await deps.roster.update(session, jid, body);
  });

  router.delete('/restapi/v1/chat/:streamid/contacts/:jid', async (ctx) => {
    const session = await stream(ctx);
    await deps.roster.remove(session, contactJid(ctx.params.jid!));
    ctx.status = 204;
  });

  router.post('/restapi/v1/chat/:streamid/contacts/:jid/subscription', async (ctx) => {
    const session = await stream(ctx);
    await deps.roster.approve(session, contactJid(ctx.params.jid!));
    ctx.status = 204;
  });

  router.delete('/restapi/v1/chat/:streamid/contacts/:jid/subscription', async (ctx) => {
    const session = await stream(ctx);
    await deps.roster.deny(session, contactJid(ctx.params.jid!));
    ctx.status = 204;
  });

  router.get('/restapi/v1/chat/:streamid/subscriptions', async (ctx) => {
    const session = await stream(ctx);
    ctx.body = { requests: await deps.roster.pending(session) };
  });

  router.get('/restapi/v1/chat/:streamid/blocked', async (ctx) => {
    const session = await stream(ctx);
    ctx.body = { blocked: await deps.blocking.list(session) };
  });

  router.put('/restapi/v1/chat/:streamid/blocked/:jid', async (ctx) => {
    const session = await stream(ctx);
    await deps.blocking.block(session, parseJid(ctx.params.jid!, deps.domain).full);
    ctx.status = 204;
  });

  router.delete('/restapi/v1/chat/:streamid/blocked/:jid', async (ctx) => {
    const session = await stream(ctx);
    await deps.blocking.unblock(session, parseJid(ctx.params.jid!, deps.domain).full);
    ctx.status = 204;
  });
}

/** Contacts are accounts, so bare JIDs: a resource is a mistake worth a 400, not silently dropped. */
function parseContactJid(raw: string, domain: string): string {
  const jid = parseJid(raw, domain, 'contact JID');
  if (jid.resource !== undefined)
    throw new BridgeError(
      'INVALID_JID',
      `"${raw.slice(0, 120)}" has a resource; contacts are bare JIDs (user@domain)`,
    );
  return jid.bare;
}

function jsonBody(ctx: Context): unknown {
  const body = readBody(ctx);
  if (body.kind === 'json') return body.value;
  if (body.kind === 'none') return {};
  throw new BridgeError('UNSUPPORTED_MEDIA_TYPE', 'send the contact as application/json');
}
