import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { requireMaster, requireStream, type AccessDeps } from '../http/access.js';
import { readBody, validate } from '../http/body.js';
import { parseUsername } from '../http/params.js';
import { publicBase } from '../http/publicBase.js';
import { take, type Limiter } from '../limits/limiter.js';
import type { HostLogin } from './HostLogin.js';
import { MAX_IDS, type HostUsers } from './HostUsers.js';

const LoginJson = z.object({ token: z.string().min(1).max(200) }).strict();
const Ids = z.object({ ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_IDS) }).strict();

export interface HostSiteRoutesDeps {
  login?: HostLogin;
  users?: HostUsers;
  publicUrl?: string;
  /** a user's own refreshes (each one is a request to the host site) */
  refreshLimit: Limiter;
}

/**
 * POST /restapi/v1/host/login                          a host-signed token → a session (as a login answers)
 * GET  /restapi/v1/chat/{streamid}/host/users?ids=     the host site's profiles of these users (cached)
 * POST /restapi/v1/chat/{streamid}/host/users/refresh  the same, asked again now
 * POST /restapi/v1/host/users/refresh                  the host site (master secret): these profiles changed
 */
export function hostSiteRoutes(router: Router, access: AccessDeps, deps: HostSiteRoutesDeps): void {
  router.post('/restapi/v1/host/login', async (ctx) => {
    if (!deps.login) throw disabled('PARLEY_HOST_LOGIN_KEY');
    const body = readBody(ctx);
    const token =
      body.kind === 'json' ? validate(LoginJson, body.value).token : body.kind === 'text' ? body.text : '';
    if (!token)
      throw new BridgeError('UNAUTHENTICATED', 'send the host-signed token: JSON {"token"} or text');
    const { session, token: sessionToken, reused, cursor } = await deps.login.login(token, access.verifier);
    const base = publicBase(ctx, deps.publicUrl);
    ctx.status = reused ? 200 : 201;
    ctx.set('Location', `${base}/restapi/v1/chat/${session.streamId}`);
    ctx.body = {
      streamId: session.streamId,
      token: sessionToken,
      jid: session.bareJid,
      resource: session.resource,
      events: `${base}/restapi/v1/chat/${session.streamId}/events?lastEventId=${cursor}`,
      lastEventId: cursor,
      reused,
    };
  });

  router.get('/restapi/v1/chat/:streamid/host/users', async (ctx) => {
    await requireStream(ctx, access, ctx.params.streamid!);
    const users = usersOf(deps);
    const raw = typeof ctx.query.ids === 'string' ? ctx.query.ids : '';
    ctx.body = { users: await users.get(parseIds(raw.split(',').filter(Boolean))) };
  });

  router.post('/restapi/v1/chat/:streamid/host/users/refresh', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    const users = usersOf(deps);
    const ids = idsOfBody(ctx);
    await take(deps.refreshLimit, session.username, 'RATE_LIMITED', 'too many profile refreshes');
    ctx.body = { users: await users.refresh(ids) };
  });

  router.post('/restapi/v1/host/users/refresh', async (ctx) => {
    requireMaster(ctx);
    const users = usersOf(deps);
    ctx.body = { users: await users.refresh(idsOfBody(ctx)) };
  });
}

const disabled = (variable: string) =>
  new BridgeError('HOST_SITE_DISABLED', `set ${variable} to use the host-site integration`);

function usersOf(deps: HostSiteRoutesDeps): HostUsers {
  if (!deps.users) throw disabled('PARLEY_HOST_USERS_URL');
  return deps.users;
}

function parseIds(raw: string[]): string[] {
  if (!raw.length) throw new BridgeError('BAD_REQUEST', 'name the users: ?ids=17,42');
  if (raw.length > MAX_IDS) throw new BridgeError('BAD_REQUEST', `at most ${MAX_IDS} ids at a time`);
  return [...new Set(raw.map((id) => parseUsername(id.trim())))];
}

function idsOfBody(ctx: Context): string[] {
  const body = readBody(ctx);
  return parseIds(validate(Ids, body.kind === 'json' ? body.value : undefined).ids);
}
