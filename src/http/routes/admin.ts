import type Router from '@koa/router';
import type { SessionManager } from '../../sessions/SessionManager.js';
import { requireMaster } from '../access.js';
import { parseStreamId } from '../params.js';

export interface AdminRoutesDeps {
  sessions: Pick<SessionManager, 'all' | 'logoff' | 'instanceId'>;
}

/**
 * Operator calls, master secret only (the admin CLI uses them):
 * GET /restapi/v1/admin/sessions — the live sessions on this instance;
 * DELETE /restapi/v1/admin/sessions/{streamid} — end one, as a logoff with reason `kicked`.
 */
export function adminRoutes(router: Router, deps: AdminRoutesDeps): void {
  router.get('/restapi/v1/admin/sessions', (ctx) => {
    requireMaster(ctx);
    const sessions = deps.sessions.all().map((s) => ({
      streamId: s.streamId,
      username: s.username,
      jid: s.bareJid,
      resource: s.resource,
      state: s.state,
      openStreams: s.openStreams,
      lastActivity: new Date(s.lastActivity).toISOString(),
    }));
    ctx.body = { instanceId: deps.sessions.instanceId, sessions };
  });

  router.delete('/restapi/v1/admin/sessions/:streamid', async (ctx) => {
    requireMaster(ctx);
    await deps.sessions.logoff(parseStreamId(ctx.params.streamid!), 'kicked');
    ctx.status = 204;
  });
}
