import type { Context } from 'koa';
import { BridgeError } from '../errors/BridgeError.js';
import { callerOf, requireOpsNetwork, type AccessDeps } from '../http/access.js';
import { parseUsername } from '../http/params.js';

/** Who performed an admin call, as the audit log records it: `master` or the admin's bare JID. */
export type Actor = string;

export interface AdminAccess {
  access: AccessDeps;
  adminJids: readonly string[];
  domain: string;
}

/**
 * Admin calls: the master secret, or Basic credentials / a session token of a user whose bare JID is
 * listed in PARLEY_ADMIN_JIDS. 401 without or with wrong credentials, 403 for anyone else — a
 * non-admin learns nothing more than that the route exists. Admins other than the master secret are
 * served only on the operations network (PARLEY_OPS_ALLOW), whatever the proxy in front lets through.
 */
export async function requireAdmin(ctx: Context, deps: AdminAccess): Promise<Actor> {
  const caller = callerOf(ctx);
  if (caller.kind === 'master') return 'master';
  requireOpsNetwork(ctx);
  switch (caller.kind) {
    case 'anonymous':
      throw new BridgeError('UNAUTHENTICATED', "this call needs the master secret or an admin's credentials");
    case 'basic': {
      const name = parseUsername(caller.username);
      if (!(await deps.access.verifier.verify(name, caller.password)))
        throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
      return admitted(`${name}@${deps.domain}`, deps);
    }
    case 'token': {
      const owner = await deps.access.sessions.tokenOwner(caller);
      if (!owner || owner.ended) throw new BridgeError('BAD_CREDENTIALS', 'unknown or expired session token');
      return admitted(`${owner.username}@${deps.domain}`, deps);
    }
  }
}

function admitted(jid: string, deps: AdminAccess): Actor {
  if (!deps.adminJids.includes(jid))
    throw new BridgeError('FORBIDDEN', `${jid} is not an administrator (PARLEY_ADMIN_JIDS)`);
  return jid;
}
