import type Router from '@koa/router';
import type { Context } from 'koa';
import { BridgeError } from '../errors/BridgeError.js';
import { callerOf, requireStream, type AccessDeps } from '../http/access.js';
import { readBody } from '../http/body.js';
import { parseUsername } from '../http/params.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import type { AdminConnection } from '../xmpp/admin/AdminConnection.js';
import { parseJid } from '../xmpp/jid.js';
import { MAX_VALUE_CHARS, parsePropertyName, type ProfileService } from './ProfileService.js';
import type { IqEntity, UserDirectory } from './UserDirectory.js';

export interface UserRoutesDeps {
  directory: UserDirectory;
  profiles: ProfileService;
  admin?: AdminConnection;
  domain: string;
}

/**
 * GET  /restapi/v1/chat/users?search=            directory search (ofchat #9)
 * POST|DELETE /restapi/v1/chat/{streamid}/users/{name}   own profile property (ofchat #10, #11)
 * GET  /restapi/v1/chat/{streamid}/users/{jid}/profile   anyone's public profile
 */
export function userRoutes(router: Router, access: AccessDeps, deps: UserRoutesDeps): void {
  router.get('/restapi/v1/chat/users', async (ctx) => {
    const session = await directoryCaller(ctx, access);
    const term = parseSearchTerm(ctx.query.search);
    const limit = parseLimit(ctx.query.limit);
    // Ask the server as the caller, else as Parley's admin; with neither, Parley's own accounts answer.
    const via: IqEntity | undefined = session?.isOnline
      ? session
      : deps.admin?.isOnline
        ? deps.admin
        : undefined;
    ctx.body = await deps.directory.search(term.slice(0, 256), limit, via);
  });

  router.post('/restapi/v1/chat/:streamid/users/:name', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    const name = parsePropertyName(ctx.params.name!);
    await deps.profiles.set(session, name, propertyValue(ctx));
    ctx.status = 204;
  });

  router.delete('/restapi/v1/chat/:streamid/users/:name', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    await deps.profiles.remove(session, parsePropertyName(ctx.params.name!));
    ctx.status = 204;
  });

  router.get('/restapi/v1/chat/:streamid/users/:jid/profile', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    const jid = parseJid(ctx.params.jid!, deps.domain, 'user JID');
    if (jid.resource !== undefined || !jid.local)
      throw new BridgeError('INVALID_JID', 'a profile belongs to an account: give user@domain or a username');
    ctx.body = await deps.profiles.read(session, jid.bare);
  });
}

/**
 * Directory search is open to any authenticated caller: the master secret, a live session token or a
 * user's Basic credentials. Returns the caller's own session, if any, to search through.
 */
async function directoryCaller(ctx: Context, access: AccessDeps): Promise<UserSession | undefined> {
  const caller = callerOf(ctx);
  switch (caller.kind) {
    case 'master':
      return undefined;
    case 'anonymous':
      throw new BridgeError(
        'UNAUTHENTICATED',
        'send Basic credentials, a session token or the master secret',
      );
    case 'basic': {
      const name = parseUsername(caller.username);
      if (!(await access.verifier.verify(name, caller.password)))
        throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
      return access.sessions.byUser(name);
    }
    case 'token': {
      const owner = await access.sessions.tokenOwner(caller);
      if (!owner || owner.ended) throw new BridgeError('BAD_CREDENTIALS', 'unknown or expired session token');
      return access.sessions.get(owner.streamId);
    }
  }
}

/** Shortest search term: an empty or one-letter search would page through every account. */
export const MIN_SEARCH_CHARS = 2;

function parseSearchTerm(raw: unknown): string {
  const term = typeof raw === 'string' ? raw.trim() : '';
  if ([...term].length < MIN_SEARCH_CHARS) {
    const message = `give at least ${MIN_SEARCH_CHARS} characters to search for`;
    throw new BridgeError('VALIDATION_FAILED', `query.search: ${message}`, {
      errors: [{ path: 'query.search', message }],
    });
  }
  return term;
}

function parseLimit(raw: unknown): number {
  if (raw === undefined || raw === '') return 50;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 1 || n > 200)
    throw new BridgeError('BAD_REQUEST', 'limit must be an integer from 1 to 200');
  return n;
}

/** ofchat sent the value as the whole body; JSON `{"value": "..."}` or a JSON string work too. */
function propertyValue(ctx: Context): string {
  const body = readBody(ctx);
  let value: unknown = body.kind === 'text' ? body.text : undefined;
  if (body.kind === 'json')
    value = typeof body.value === 'string' ? body.value : (body.value as { value?: unknown } | null)?.value;
  if (typeof value !== 'string' || value === '')
    throw new BridgeError(
      'BAD_REQUEST',
      'send the property value as a text/plain body (or JSON {"value": "..."}); use DELETE to remove it',
    );
  if (value.length > MAX_VALUE_CHARS)
    throw new BridgeError('BAD_REQUEST', `a property value is at most ${MAX_VALUE_CHARS} characters`);
  return value;
}
