import type { Context } from 'koa';
import { BridgeError } from '../errors/BridgeError.js';
import type { Caller } from './middleware/auth.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import type { CredentialVerifier } from '../sessions/CredentialVerifier.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { parseStreamId, parseUsername } from './params.js';
import { fromOpsNetwork } from './clientAddress.js';
import type { StreamTickets } from '../sessions/StreamTickets.js';

export interface AccessDeps {
  sessions: SessionManager;
  verifier: CredentialVerifier;
  /**
   * `?ticket=` for every event stream (EventSource sends no headers). One instance for all of them, keyed
   * by the master secret, so any instance of a cluster accepts a ticket another one issued.
   */
  tickets: StreamTickets;
}

/** What checking a caller's credentials needs (tickets are redeemed by the stream routes themselves). */
export type CredentialDeps = Pick<AccessDeps, 'sessions' | 'verifier'>;

export const callerOf = (ctx: Context): Caller => ctx.state.caller as Caller;

/**
 * The live session named by `:streamid`, if the caller may act on it:
 * 401 without credentials, 404 for an unknown stream, 403 for someone else's stream.
 */
export async function requireStream(ctx: Context, deps: CredentialDeps, raw: string): Promise<UserSession> {
  const caller = callerOf(ctx);
  if (caller.kind === 'anonymous')
    throw new BridgeError('UNAUTHENTICATED', 'send a session token, Basic credentials or the master secret');
  const streamId = parseStreamId(raw);
  if (caller.kind === 'token') {
    const owner = await deps.sessions.tokenOwner(caller);
    if (!owner) throw new BridgeError('BAD_CREDENTIALS', 'unknown session token');
    const session = deps.sessions.get(streamId);
    if (!session) throw new BridgeError('STREAM_NOT_FOUND', `no live session with stream id ${streamId}`);
    if (owner.streamId !== streamId)
      throw new BridgeError('NOT_YOUR_STREAM', 'this token was issued for another stream');
    session.touch();
    return session;
  }
  const session = deps.sessions.get(streamId);
  if (!session) throw new BridgeError('STREAM_NOT_FOUND', `no live session with stream id ${streamId}`);
  if (caller.kind === 'basic') await requireUser(ctx, deps, session.username);
  session.touch();
  return session;
}

/**
 * Basic credentials acting for `username`: that user's own, or an XMPP server admin's (ofchat's AuthFilter
 * lets an admin act for anyone; PARLEY_ADMIN_BASIC, docs/accounts.md). 401 for a wrong password, 403 for
 * another user's. Resolves with who is acting: `self` or `admin`.
 */
export async function requireBasicFor(
  deps: Pick<AccessDeps, 'verifier'>,
  caller: { username: string; password: string },
  username: string,
): Promise<'self' | 'admin'> {
  const name = parseUsername(caller.username);
  if (name === username) {
    if (!(await deps.verifier.verify(name, caller.password)))
      throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
    return 'self';
  }
  const standing = await deps.verifier.adminStatus(name, caller.password);
  if (standing === 'bad')
    throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
  if (standing !== 'admin') throw new BridgeError('FORBIDDEN', `${name} may not act for ${username}`);
  return 'admin';
}

/**
 * The master secret, or Basic credentials of this user (or of an XMPP server admin), or a session token of
 * this user.
 */
export async function requireUser(ctx: Context, deps: CredentialDeps, username: string): Promise<void> {
  const caller = callerOf(ctx);
  switch (caller.kind) {
    case 'master':
      return;
    case 'anonymous':
      throw new BridgeError(
        'UNAUTHENTICATED',
        'send Basic credentials, a session token or the master secret',
      );
    case 'basic':
      await requireBasicFor(deps, caller, username);
      return;
    case 'token': {
      const owner = await deps.sessions.tokenOwner(caller);
      if (!owner || owner.ended) throw new BridgeError('BAD_CREDENTIALS', 'unknown or expired session token');
      if (owner.username !== username)
        throw new BridgeError('FORBIDDEN', `this token belongs to ${owner.username}, not ${username}`);
      return;
    }
  }
}

export function requireMaster(ctx: Context): void {
  const caller = callerOf(ctx);
  if (caller.kind === 'anonymous')
    throw new BridgeError('UNAUTHENTICATED', 'this call needs the master secret');
  if (caller.kind !== 'master') throw new BridgeError('FORBIDDEN', 'this call needs the master secret');
}

/**
 * The admin API and /metrics without the master secret: only for clients on the operations network
 * (PARLEY_OPS_ALLOW, by the socket's address or a trusted proxy's X-Forwarded-For), so a proxy rule that
 * lets a variant of the path through (case, slashes, encoding) exposes nothing.
 */
export function requireOpsNetwork(ctx: Context): void {
  if (!fromOpsNetwork(ctx))
    throw new BridgeError(
      'FORBIDDEN',
      'this call is served only to the operations network (PARLEY_OPS_ALLOW) or with the master secret',
    );
}
