import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/loadConfig.js';
import type { Log } from './log.js';
import { createRequestListener } from './app.js';
import { resolveSecret } from './secretFile.js';
import { createPool, databaseFrom, type Database } from './store/db.js';
import { startEmbeddedPostgres } from './store/embedded.js';
import { migrate } from './store/migrate.js';
import { SecretBox } from './crypto/SecretBox.js';
import { createPgEventStore } from './messages/EventStore.js';
import { createPgMessageLog } from './messages/createPgMessageLog.js';
import { TimedDb } from './store/TimedDb.js';
import { ReplayPacer } from './sse/ReplayPacer.js';
import { EventHub } from './sse/EventHub.js';
import { createPgSessionStore } from './sessions/SessionStore.js';
import { AccountService } from './sessions/AccountService.js';
import { CredentialVerifier } from './sessions/CredentialVerifier.js';
import { LoginTokens } from './xmpp/client/LoginTokens.js';
import { SessionManager } from './sessions/SessionManager.js';
import { AdminConnection } from './xmpp/admin/AdminConnection.js';
import { tcpReachable } from './xmpp/reachable.js';
import { StanzaRouter } from './xmpp/StanzaRouter.js';
import type { Feature, GatewayContext } from './feature.js';
import {
  createAccountPolicy,
  createModerationFeature,
  type AccountPolicy,
  type SendPolicy,
} from './moderation/index.js';
import { createRoomsFeature } from './rooms/index.js';
import { createChatFeature } from './chat/index.js';
import { createCallsFeature } from './calls/index.js';
import { createWorkgroupFeature } from './workgroup/index.js';
import { createContactsFeature } from './contacts/index.js';
import { createBbbFeature } from './bbb/index.js';
import { createGroupsFeature } from './groups/index.js';
import { createBookmarksFeature } from './bookmarks/index.js';
import { createHostSiteFeature } from './hostsite/index.js';
import { createAttachmentsFeature, createMessageFiles, createUploadPolicy } from './attachments/index.js';
import { createSyncFeature } from './sync/index.js';
import { Cluster } from './cluster/Cluster.js';
import { deriveClusterKey } from './cluster/forward.js';
import { AddressSet } from './http/clientAddress.js';
import { REDIS_KEYS } from './redis/keys.js';
import { createMetrics } from './metrics/Metrics.js';
import { outboxStats } from './callbacks/CallbackOutbox.js';
import { LoginThrottle } from './sessions/LoginThrottle.js';
import { limiterFactory } from './limits/limiter.js';
import { SendConcurrency } from './limits/SendConcurrency.js';
import { closeQuietly, connectSoon, createRedisClient } from './redis/createRedis.js';
import { OutboundBudget } from './xmpp/client/OutboundBudget.js';

export interface RunningParley {
  url: string;
  secret: string;
  secretGenerated: boolean;
  server: Server;
  sessions: SessionManager;
  hub: EventHub;
  db: Database;
  /** moderation's in-memory ACL behind the send and login policies (tests watch its reloads) */
  policy: AccountPolicy;
  stop(): Promise<void>;
}

/** The composition root: config → database → XMPP → services → HTTP. Used by main.ts and the tests. */
export async function startParley(config: Readonly<Config>, log: Log): Promise<RunningParley> {
  const { secret, generated } = await resolveSecret(config.secret, config.dataDir);
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres(config.dataDir, log);
  // PGlite serves one connection at a time: a larger pool would only queue (DESIGN.md §5).
  const pool = createPool(config.database.url ?? embedded!.url, embedded ? 1 : config.database.poolMax, log);
  const db = databaseFrom(pool, async () => {
    await embedded?.stop();
  });
  const metrics = createMetrics(); // this gateway's registry, served at GET /metrics
  const applied = await migrate(pool);
  if (applied.length) log.info({ applied }, 'database migrated');

  const x = config.xmpp;
  const admin =
    x.adminJid && x.adminPassword
      ? new AdminConnection(x.adminJid, x.adminPassword, {
          service: x.service,
          reconnectMaxSeconds: x.reconnectMaxSeconds,
          allowPlainUnencrypted: x.allowPlainUnencrypted,
          log,
        })
      : undefined;
  await admin?.start();

  const limits = config.limits;
  // Rate-limit counters live in Redis when there is one (shared by the cluster; failFast: a Redis outage
  // falls back to per-instance counting at once instead of stalling requests).
  const limitRedis = config.redis.url
    ? createRedisClient(config.redis.url, { log, name: 'parley-limits', failFast: true })
    : undefined;
  if (limitRedis) await connectSoon(limitRedis, 2000, log);
  const limiter = limiterFactory(limitRedis, deploymentOf(config));
  // The message log's statements are timed by name (parley_store_query_duration_seconds{operation}).
  const timed = new TimedDb(pool, metrics.store);
  const events = createPgEventStore(timed);
  const pacer = new ReplayPacer();
  const hub = new EventHub({ store: events, log: log.child({ c: 'events' }), limits: limits.sse, pacer });
  const messages = createPgMessageLog({
    db: timed,
    events,
    sink: hub,
    group: { gatherMs: config.database.gatherMs },
  });
  const sessionStore = createPgSessionStore(pool);
  const verifier = new CredentialVerifier({
    service: x.service,
    domain: x.domain,
    allowPlainUnencrypted: x.allowPlainUnencrypted,
    throttle: new LoginThrottle(limits.login, limiter),
    adminBasic: x.adminBasic,
  });
  const box = new SecretBox(secret);
  const accounts = new AccountService({
    store: sessionStore,
    box,
    admin,
    domain: x.domain,
    tokens: x.loginTokenSecret ? new LoginTokens(x.loginTokenSecret) : undefined,
  });
  // Moderation's ports: mute and disable hold wherever a user sends or logs in, on every instance. Answered
  // from memory; a block changed here or on a peer (cluster bus) is reloaded at once, and all every few seconds.
  const policy = createAccountPolicy(pool, {
    refreshMs: config.moderation.aclRefreshSeconds * 1000,
    log: log.child({ c: 'acl' }),
  });
  await policy.start();
  const outbound = new OutboundBudget(x.outbound, (code) => metrics.xmpp.sendRefused(code));
  metrics.watchOutbound(outbound);
  const sendConcurrency =
    x.sendTargetMs > 0
      ? new SendConcurrency({ targetMs: x.sendTargetMs, onRefused: (code) => metrics.xmpp.sendRefused(code) })
      : undefined;
  if (sendConcurrency) metrics.watchSends(sendConcurrency);
  const sessions = new SessionManager({
    store: sessionStore,
    hub,
    accounts,
    verifier,
    log: log.child({ c: 'sessions' }),
    xmpp: {
      service: x.service,
      domain: x.domain,
      reconnectMaxSeconds: x.reconnectMaxSeconds,
      allowPlainUnencrypted: x.allowPlainUnencrypted,
    },
    idleSeconds: config.sessions.idleSeconds,
    tokenTtlSeconds: config.sessions.tokenTtlSeconds,
    instanceId: config.instanceId,
    metrics: metrics.xmpp,
    outbound,
    restore: config.sessions.restore ? { box } : undefined,
    loginPolicy: policy,
  });
  metrics.watchSessions(sessions);
  metrics.watchOutbox(() => outboxStats(pool));
  const stanzas = new StanzaRouter(log.child({ c: 'stanzas' }));
  sessions.onSessionCreated((session) => stanzas.attach(session));
  // The instance's own URL is known once it listens (the port may be 0); the registry reads it at each beat.
  const self = { id: sessions.instanceId, url: config.internalUrl ?? '' };
  const cluster = new Cluster({
    db: pool,
    self,
    redisUrl: config.redis.url,
    channel: REDIS_KEYS.events,
    log,
    clusterKey: config.network.clusterKey ?? deriveClusterKey(secret),
    adopt: config.sessions.restore ? (staleSeconds) => sessions.adoptOrphans(staleSeconds) : undefined,
    onBlocksChanged: (username) => policy.invalidate(username),
  });
  const features = createFeatures(
    { config, log, db: pool, hub, messages, sessions, stanzas, admin, box, peers: cluster, limiter },
    policy,
    (username) => policy.invalidate(username),
  );
  for (const f of features) await f.start?.();
  await sessions.start();

  let baseUrl = config.http.publicUrl ?? '';
  let stopping = false;
  const listener = createRequestListener({
    log,
    secret,
    maxBodyBytes: config.http.maxBodyBytes,
    heartbeatMs: config.sessions.heartbeatSeconds * 1000,
    publicUrl: (path) => baseUrl + path,
    sessions,
    verifier,
    hub,
    features,
    isStopping: () => stopping,
    ...(sendConcurrency && { sendConcurrency }),
    forwarding: cluster.forwarding(sessions),
    network: {
      opsAllow: new AddressSet(config.network.opsAllow),
      trustedProxies: new AddressSet(config.network.trustedProxies),
    },
    remote: cluster.registry,
    corsOrigins: config.http.corsOrigins,
    ofchat: { domain: x.domain, askWaitSeconds: config.ofchat.askWaitSeconds },
    metrics,
    metricsPublic: config.metrics.public,
    health: {
      dbPing: () => db.ping(),
      xmppPing: () => (admin ? admin.ping() : tcpReachable(x.service)),
    },
  });
  const server = createServer(listener);
  server.keepAliveTimeout = 65_000; // longer than common proxies' idle timeouts
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (!config.http.publicUrl) baseUrl = url;
  if (!config.internalUrl) self.url = url;
  await cluster.start(hub, sessions);
  log.info({ url }, 'Parley listening');

  return {
    url,
    secret,
    secretGenerated: generated,
    server,
    sessions,
    hub,
    db,
    policy,
    /**
     * Graceful: stop accepting, send event streams elsewhere with a retry hint, let in-flight requests
     * finish (up to 5 s: what they acknowledged is stored), then close XMPP sessions with unavailable
     * presence, stop the features (they finish in-flight work), and close the pool.
     */
    async stop() {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      hub.closeStreams();
      server.closeIdleConnections();
      const drained = await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref()),
      ]);
      if (!drained) {
        log.warn('requests still running after 5 s; closing their connections');
        server.closeAllConnections();
        await closed;
      }
      await sessions.stop();
      await cluster.stop();
      for (const f of [...features].reverse())
        await f.stop?.().catch((err) => log.warn({ err, feature: f.name }, 'feature stop failed'));
      await admin?.stop();
      if (limitRedis) closeQuietly(limitRedis);
      policy.stop();
      await db.close();
    },
  };
}

/**
 * The gateway's features, each given only what it names. The order is the order of start (and, reversed,
 * of stop) and of route registration, where fixed paths come before `/chat/:streamid`-style ones within
 * each feature; nothing else depends on it (see feature.ts). Also used by the OpenAPI test.
 */
export function createFeatures(
  ctx: GatewayContext,
  sendPolicy: SendPolicy,
  blocksChanged?: (username: string) => void,
): Feature[] {
  // Chat and rooms carry files through the attachments feature's port, not its tables.
  const files = createMessageFiles(ctx.db);
  // The upload limits the attachments feature enforces and a sync site changes when its host says so.
  const uploadPolicy = createUploadPolicy(ctx.config.files);
  return [
    createModerationFeature({ ...ctx, blocksChanged }),
    createRoomsFeature({ ...ctx, sendPolicy, files }),
    createChatFeature({ ...ctx, sendPolicy, files }),
    createCallsFeature({ ...ctx, sendPolicy }),
    createWorkgroupFeature(ctx),
    createContactsFeature({ ...ctx, sendPolicy }),
    createBbbFeature(ctx),
    createGroupsFeature(ctx),
    createAttachmentsFeature({ ...ctx, uploadPolicy }),
    createBookmarksFeature(ctx),
    createHostSiteFeature(ctx),
    createSyncFeature({ ...ctx, uploadPolicy }),
  ];
}

/** What the instances of one deployment share (their database), naming their rate-limit counters in Redis. */
function deploymentOf(config: Readonly<Config>): string {
  if (!config.database.url) return `embedded:${config.dataDir}`;
  const u = new URL(config.database.url);
  return `${u.hostname}:${u.port}${u.pathname}`;
}
