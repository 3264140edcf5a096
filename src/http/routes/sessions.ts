import type Router from '@koa/router';
import { z } from 'zod';
import { BridgeError } from '../../errors/BridgeError.js';
import type { SessionManager } from '../../sessions/SessionManager.js';
import type { CredentialVerifier } from '../../sessions/CredentialVerifier.js';
import { callerOf, requireBasicFor, requireStream } from '../access.js';
import { readBody, validate } from '../body.js';
import { parseUsername } from '../params.js';

const LoginJson = z.object({ password: z.string().min(1).max(1024) }).strict();

export interface SessionRoutesDeps {
  sessions: SessionManager;
  verifier: CredentialVerifier;
  publicUrl: (path: string) => string;
}

/**
 * POST /restapi/v1/chat/{username}/login — ofchat's login (text/plain password body) plus JSON and Basic;
 * with the master secret (or an XMPP server admin's Basic) and no password Parley logs the user in itself
 * (a login token, or an account it provisions: docs/accounts.md). One XMPP session per user.
 * POST /restapi/v1/chat/{streamid}/logoff
 */
export function sessionRoutes(router: Router, deps: SessionRoutesDeps): void {
  router.post('/restapi/v1/chat/:username/login', async (ctx) => {
    const username = parseUsername(ctx.params.username!);
    const caller = callerOf(ctx);
    const body = readBody(ctx);
    let password: string | undefined;
    // ofchat: an empty body, or the `{}` Swagger UI sends, is no password (admin or master-secret login).
    if (body.kind === 'text')
      password = body.text === '' || body.text.trim() === '{}' ? undefined : body.text;
    else if (body.kind === 'json') password = validate(LoginJson, body.value).password;
    // ofchat's ChatService.login: an XMPP server admin's Basic and no password opens the named user's
    // session as the master secret does; with a body password, that password logs the user in.
    let asMaster = caller.kind === 'master';
    if (caller.kind === 'basic' && parseUsername(caller.username) !== username) {
      await requireBasicFor(deps, caller, username); // 401, or 403 unless an admin
      asMaster = password === undefined;
    } else if (caller.kind === 'basic') {
      if (password !== undefined && password !== caller.password)
        throw new BridgeError('BAD_REQUEST', 'the body password and the Basic password differ');
      password = caller.password;
    }
    if (password === undefined && !asMaster) {
      throw new BridgeError(
        'UNAUTHENTICATED',
        'send the user\'s password (text/plain body, JSON {"password"} or Basic) or the master secret',
      );
    }
    const { session, token, reused, cursor } = await deps.sessions.login(username, password);
    // The cursor makes a stream opened from this URL replay what the login itself brought in
    // (its session event, messages caught up from the server's archive).
    const events = deps.publicUrl(`/restapi/v1/chat/${session.streamId}/events?lastEventId=${cursor}`);
    ctx.status = reused ? 200 : 201;
    ctx.set('Location', deps.publicUrl(`/restapi/v1/chat/${session.streamId}`));
    if (wantsText(ctx.get('Accept'))) {
      ctx.type = 'text/plain';
      ctx.body = session.streamId;
      ctx.set('X-Parley-Token', token);
      return;
    }
    ctx.body = {
      streamId: session.streamId,
      token,
      jid: session.bareJid,
      resource: session.resource,
      events,
      lastEventId: cursor,
      reused,
    };
  });

  router.post('/restapi/v1/chat/:streamid/logoff', async (ctx) => {
    const session = await requireStream(ctx, deps, ctx.params.streamid!);
    await deps.sessions.logoff(session.streamId);
    ctx.status = 204;
  });

  router.get('/restapi/v1/chat/:streamid', async (ctx) => {
    const session = await requireStream(ctx, deps, ctx.params.streamid!);
    ctx.body = {
      streamId: session.streamId,
      jid: session.bareJid,
      resource: session.resource,
      state: session.state,
      openStreams: session.openStreams,
      events: deps.publicUrl(`/restapi/v1/chat/${session.streamId}/events`),
    };
  });
}

/** ofchat clients expect the bare stream id: answer text when text is preferred over JSON. */
function wantsText(accept: string): boolean {
  const q = (type: string): number | undefined => {
    for (const part of accept.split(',')) {
      const [media, ...params] = part
        .trim()
        .split(';')
        .map((p) => p.trim());
      if (media?.toLowerCase() !== type) continue;
      const qp = params.find((p) => p.startsWith('q='));
      return qp ? Number(qp.slice(2)) || 0 : 1;
    }
    return undefined;
  };
  const text = q('text/plain');
  if (text === undefined || text === 0) return false;
  const json = q('application/json') ?? q('*/*') ?? 0;
  return text > json;
}
