import Koa from 'koa';
import type { RequestListener } from 'node:http';
import { randomBytes } from 'node:crypto';
import { IndexedRouter } from './http/IndexedRouter.js';
import type { Log } from './log.js';
import { errorHandler } from './http/middleware/errorHandler.js';
import { BridgeError } from './errors/BridgeError.js';
import { requestId } from './http/middleware/requestId.js';
import { SendDoor, shedSends } from './http/middleware/shedSends.js';
import { withEarlyRefusals } from './http/earlyRefusals.js';
import type { SendConcurrency } from './limits/SendConcurrency.js';
import { authenticate } from './http/middleware/auth.js';
import { AddressSet, clientAddress, type ClientNetwork } from './http/clientAddress.js';
import { bodyParser } from './http/body.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { eventRoutes, type EventRoutesDeps } from './http/routes/events.js';
import { healthRoutes, type HealthDeps } from './http/routes/health.js';
import { docsRoutes } from './http/routes/docs.js';
import { webClientRoutes } from './http/routes/webClient.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { adminRoutes } from './http/routes/admin.js';
import { withLogContext } from './log.js';
import { createMetrics, type Metrics } from './metrics/Metrics.js';
import { httpMetrics } from './metrics/httpMetrics.js';
import type { SessionManager } from './sessions/SessionManager.js';
import type { CredentialVerifier } from './sessions/CredentialVerifier.js';
import type { EventHub } from './sse/EventHub.js';
import type { Feature } from './feature.js';
import { StreamTickets } from './sessions/StreamTickets.js';
import { corsFor } from './http/cors.js';
import { ofchatFace, type OfchatFaceOptions } from './http/ofchat/ofchatFace.js';

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
  /** default: a fresh registry without process metrics (tests); startParley passes the gateway's */
  metrics?: Metrics;
  /** PARLEY_METRICS_PUBLIC: GET /metrics without the master secret */
  metricsPublic?: boolean;
  /** true once shutdown began: new requests get 503 + Connection: close, so clients move to another instance */
  isStopping?: () => boolean;
  /** PARLEY_OPS_ALLOW / PARLEY_TRUSTED_PROXIES; default loopback for both */
  network?: ClientNetwork;
  /** PARLEY_SEND_TARGET_MS: the adaptive bound on sends in progress (limits/SendConcurrency.ts); none without */
  sendConcurrency?: SendConcurrency;
  /** cluster: passes calls for sessions held by another instance there (runs before the routes) */
  forwarding?: Koa.Middleware;
  /** cluster: sessions held by other instances, for event streams served here */
  remote?: EventRoutesDeps['remote'];
  /** PARLEY_CORS_ORIGINS: browser origins allowed to call the API (default none) */
  corsOrigins?: string[] | '*';
  /** the Openfire-compatible face under /rest/api (default: domain localhost, 180 s ask wait) */
  ofchat?: OfchatFaceOptions;
}

const LOOPBACK = new AddressSet(['127.0.0.0/8', '::1']);

/** Builds the Koa app (middleware order, routers); never listens — main.ts and tests do. */
export function createApp(deps: AppDeps): Koa {
  return build(deps).app;
}

/**
 * The server's request listener: the app, behind the refusals answered before Koa (http/earlyRefusals.ts),
 * which ask the same door as the app's shedSends.
 */
export function createRequestListener(deps: AppDeps): RequestListener {
  const { app, door, metrics } = build(deps);
  return withEarlyRefusals(app.callback(), {
    door,
    metrics: metrics.http,
    log: deps.log,
    cors: corsFor(deps.corsOrigins ?? []) !== undefined,
    ...(deps.isStopping && { isStopping: deps.isStopping }),
  });
}

function build(deps: AppDeps): { app: Koa; door: SendDoor; metrics: Metrics } {
  const app = new Koa({ proxy: true });
  app.silent = true;
  app.on('error', (err: { code?: string }) => {
    // A client closing an SSE stream or a request mid-way is normal, not an error.
    if (err?.code === 'ERR_STREAM_PREMATURE_CLOSE' || err?.code === 'ECONNRESET' || err?.code === 'EPIPE')
      return;
    deps.log.warn({ err }, 'koa error');
  });
  const router = new IndexedRouter();
  const access = {
    sessions: deps.sessions,
    verifier: deps.verifier,
    // Keyed by the master secret so every instance of a cluster accepts the others' tickets.
    tickets: new StreamTickets(deps.secret ?? randomBytes(32).toString('base64url')),
  };
  healthRoutes(router, deps.health);
  docsRoutes(router);
  webClientRoutes(router); // GET /chat/ and /chat/{asset}: the web client from web/dist
  const metrics = deps.metrics ?? createMetrics({ processMetrics: false });
  metricsRoutes(router, { metrics, public: deps.metricsPublic ?? false });
  adminRoutes(router, { sessions: deps.sessions });
  // Feature routes first: their fixed paths (e.g. /chat/users) must win over /chat/:streamid.
  for (const f of deps.features) f.routes?.(router, access);
  sessionRoutes(router, { ...access, publicUrl: deps.publicUrl });
  eventRoutes(router, {
    ...access,
    hub: deps.hub,
    log: deps.log.child({ c: 'sse' }),
    heartbeatMs: deps.heartbeatMs,
    remote: deps.remote,
  });

  app.use(requestId);
  // Outermost but the request id: every answer, errors and the ofchat face's included, carries CORS headers.
  const cors = corsFor(deps.corsOrigins ?? []);
  if (cors) app.use(cors);
  app.use(clientAddress(deps.network ?? { trustedProxies: LOOPBACK, opsAllow: LOOPBACK }));
  // Every line logged while this request runs carries its requestId (log.ts mixin).
  app.use((ctx, next) => withLogContext({ requestId: ctx.state.requestId as string }, next));
  app.use(httpMetrics(metrics.http)); // outside errorHandler: observes the status the client got
  // Outside errorHandler: it turns Parley's problem+json into ofchat's errors on /rest/api.
  app.use(ofchatFace(deps.ofchat ?? { domain: 'localhost', askWaitSeconds: 180 }));
  app.use(errorHandler(deps.log));
  app.use(async (ctx, next) => {
    if (deps.isStopping?.()) {
      // An EventSource gives up for good on an error status but retries a dropped connection (with
      // Last-Event-ID): drop it, so it comes back to the next instance or to this one restarted.
      if (ctx.get('Accept').includes('text/event-stream')) {
        ctx.respond = false;
        ctx.req.socket.destroy();
        return;
      }
      ctx.set('Connection', 'close');
      throw new BridgeError(
        'SHUTTING_DOWN',
        'this gateway instance is shutting down; retry (another instance will answer)',
        { retryAfter: 1 },
      );
    }
    await next();
  });
  const door = new SendDoor({
    sessionOf: (id) => deps.sessions.get(id),
    routes: deps.features.flatMap((f) => f.sendRoutes ?? []),
    timedRoutes: deps.features.flatMap((f) => f.timedSendRoutes ?? []),
    ...(deps.sendConcurrency && { concurrency: deps.sendConcurrency }),
  });
  app.use(shedSends(door));
  app.use(authenticate(deps.secret));
  app.use(bodyParser(deps.maxBodyBytes));
  if (deps.forwarding) app.use(deps.forwarding);
  app.use(router.routes());
  app.use(router.allowedMethods()); // sets Allow; errorHandler turns the bare 405/501 into problem+json
  return { app, door, metrics };
}
