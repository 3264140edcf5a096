import type { Feature, GatewayContext } from '../feature.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import { HostLogin } from './HostLogin.js';
import { HostUsers } from './HostUsers.js';
import { hostSiteRoutes } from './routes.js';

export { signHostLogin } from './hostToken.js';

/** A user's own "refresh" clicks per minute: each one is a request to the host site. */
const REFRESHES_PER_MINUTE = 10;

/**
 * The embedding ("host") site, as Star.Comet-Chat integrated with one: its users log in with a token the
 * site signed (PARLEY_HOST_LOGIN_KEY; no master secret in the page), and their names, avatars, city and
 * age come from the site's user info URL (PARLEY_HOST_USERS_URL), cached. See docs/host-site.md.
 */
export type HostSiteFeatureDeps = Pick<GatewayContext, 'config' | 'log' | 'limiter'> & {
  sessions: Pick<SessionManager, 'login'>;
};

export function createHostSiteFeature(ctx: HostSiteFeatureDeps): Feature {
  const c = ctx.config.hostSite;
  const login = c.loginKey
    ? new HostLogin({
        key: c.loginKey,
        maxLifetimeSeconds: c.loginMaxSeconds,
        sessions: ctx.sessions,
        limiter: ctx.limiter,
      })
    : undefined;
  const users = c.usersUrl
    ? new HostUsers({
        url: c.usersUrl,
        ttlSeconds: c.usersTtlSeconds,
        log: ctx.log.child({ c: 'host-site' }),
      })
    : undefined;
  const refreshLimit = ctx.limiter('host-users-refresh', { points: REFRESHES_PER_MINUTE, duration: 60 });
  return {
    name: 'host-site',
    routes: (router, access) =>
      hostSiteRoutes(router, access, { login, users, publicUrl: ctx.config.http.publicUrl, refreshLimit }),
  };
}
