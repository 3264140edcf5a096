import Koa from 'koa';
import Router from '@koa/router';
import type { Log } from './log.js';
import { errorHandler } from './http/middleware/errorHandler.js';
import { requestId } from './http/middleware/requestId.js';
import { authenticate } from './http/middleware/auth.js';
import { bodyParser } from './http/body.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { eventRoutes } from './http/routes/events.js';
import { healthRoutes, type HealthDeps } from './http/routes/health.js';
import { docsRoutes } from './http/routes/docs.js';
import type { SessionManager } from './sessions/SessionManager.js';
import type { CredentialVerifier } from './sessions/CredentialVerifier.js';
import type { EventHub } from './sse/EventHub.js';
import type { Feature } from './features.js';

export interface AppDeps {
  log: Log;
  secret?: string;
  maxBodyBytes: number;
  heartbeatMs: number;
  publicUrl: (path: string) => string;
  sessions: SessionManager;
  verifier: CredentialVerifier;
  hub: EventHub;
  features: Feature[];
  health: HealthDeps;
}

/** Builds the Koa app (middleware order, routers); never listens — main.ts and tests do. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: true });
  app.silent = true;
  app.on('error', (err: { code?: string }) => {
    // A client closing an SSE stream or a request mid-way is normal, not an error.
    if (err?.code === 'ERR_STREAM_PREMATURE_CLOSE' || err?.code === 'ECONNRESET' || err?.code === 'EPIPE') return;
    deps.log.warn({ err }, 'koa error');
  });
  const router = new Router();
  const access = { sessions: deps.sessions, verifier: deps.verifier };
  healthRoutes(router, deps.health);
  docsRoutes(router);
  // Feature routes first: their fixed paths (e.g. /chat/users) must win over /chat/:streamid.
  for (const f of deps.features) f.routes?.(router, access);
  sessionRoutes(router, { ...access, publicUrl: deps.publicUrl });
  eventRoutes(router, { ...access, hub: deps.hub, log: deps.log.child({ c: 'sse' }), heartbeatMs: deps.heartbeatMs });

  app.use(requestId);
  app.use(errorHandler(deps.log));
  app.use(authenticate(deps.secret));
  app.use(bodyParser(deps.maxBodyBytes));
  app.use(router.routes());
  app.use(router.allowedMethods()); // sets Allow; errorHandler turns the bare 405/501 into problem+json
  return app;
}
