import type { Middleware } from 'koa';
import { BridgeError } from '../errors/BridgeError.js';
import { parseUsername } from '../http/params.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import type { AccountBlocks } from './AccountBlocks.js';

/** POST routes the ACL covers: login (by username) and sending 1:1, room and private room messages (by stream). */
const LOGIN = /^\/restapi\/v1\/chat\/([^/]+)\/login$/;
const SEND =
  /^\/restapi\/v1\/chat\/(ps_[A-Za-z0-9_-]{16})\/(?:messages\/[^/]+|rooms\/[^/]+|rooms\/[^/]+\/occupants\/[^/]+\/messages)$/;

/**
 * The Parley-side ACL as router middleware, mounted before every feature's routes (the moderation
 * feature comes first in FEATURES) so it can refuse before the chat or room handler runs:
 * a disabled account gets 403 at login (after the fact, see below), a muted or disabled one 403 when it sends. Other requests
 * pass untouched after one regular-expression test, without a database query.
 */
export function aclGuard(deps: {
  blocks: AccountBlocks;
  sessions: Pick<SessionManager, 'get' | 'byUser' | 'logoff'>;
}): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST') return next();
    const login = LOGIN.exec(ctx.path);
    if (login) {
      // Checked after the login route ran: its own answers (400, 401, 413, 415…) come first, and only a
      // successful login costs a query. The session it opened is ended again before the 403.
      await next();
      if (ctx.status >= 300) return;
      const username = parseUsername(decodeURIComponent(login[1]!)); // valid: the login route accepted it
      if (!(await deps.blocks.has(username, 'disabled'))) return;
      const session = deps.sessions.byUser(username);
      if (session) await deps.sessions.logoff(session.streamId, 'disabled').catch(() => undefined);
      throw new BridgeError('FORBIDDEN', `the account ${username} is disabled by an administrator`);
    }
    const send = SEND.exec(ctx.path);
    const username = send && deps.sessions.get(send[1]!)?.username;
    if (username && (await deps.blocks.has(username, 'muted', 'disabled'))) {
      throw new BridgeError('FORBIDDEN', `${username} may not send messages (blocked by an administrator)`);
    }
    return next();
  };
}
