import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/loadConfig.js';
import type { Log } from './log.js';
import { createApp } from './app.js';
import { resolveSecret } from './secretFile.js';
import { createPool, databaseFrom, type Database } from './store/db.js';
import { startEmbeddedPostgres } from './store/embedded.js';
import { migrate } from './store/migrate.js';
import { SecretBox } from './crypto/SecretBox.js';
import { createPgEventStore } from './sse/EventStore.js';
import { EventHub } from './sse/EventHub.js';
import { createPgSessionStore } from './sessions/SessionStore.js';
import { AccountService } from './sessions/AccountService.js';
import { CredentialVerifier } from './sessions/CredentialVerifier.js';
import { SessionManager } from './sessions/SessionManager.js';
import { AdminConnection } from './xmpp/admin/AdminConnection.js';
import { tcpReachable } from './xmpp/reachable.js';
import { StanzaRouter } from './xmpp/StanzaRouter.js';
import { FEATURES, type Feature } from './features.js';

export interface RunningParley {
  url: string; secret: string; secretGenerated: boolean; server: Server;
  sessions: SessionManager; hub: EventHub; db: Database;
  stop(): Promise<void>;
}

/** The composition root: config → database → XMPP → services → HTTP. Used by main.ts and the tests. */
export async function startParley(config: Readonly<Config>, log: Log): Promise<RunningParley> {
  const { secret, generated } = await resolveSecret(config.secret, config.dataDir);
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres(config.dataDir, log);
  // PGlite serves one connection at a time: a larger pool would only queue (DESIGN.md §5).
  const pool = createPool(config.database.url ?? embedded!.url, embedded ? 1 : config.database.poolMax, log);
  const db = databaseFrom(pool, async () => { await embedded?.stop(); });
  const applied = await migrate(pool);
  if (applied.length) log.info({ applied }, 'database migrated');

  const x = config.xmpp;
  const admin = x.adminJid && x.adminPassword
    ? new AdminConnection(x.adminJid, x.adminPassword, { service: x.service, reconnectMaxSeconds: x.reconnectMaxSeconds, log })
    : undefined;
  await admin?.start();

  const hub = new EventHub({ store: createPgEventStore(pool), log: log.child({ c: 'events' }) });
  const sessionStore = createPgSessionStore(pool);
  const verifier = new CredentialVerifier({ service: x.service, domain: x.domain });
  const accounts = new AccountService({ store: sessionStore, box: new SecretBox(secret), admin, domain: x.domain });
  const sessions = new SessionManager({
    store: sessionStore, hub, accounts, verifier, log: log.child({ c: 'sessions' }),
    xmpp: { service: x.service, domain: x.domain, reconnectMaxSeconds: x.reconnectMaxSeconds },
    idleSeconds: config.sessions.idleSeconds, instanceId: config.instanceId,
  });
  const stanzas = new StanzaRouter(log.child({ c: 'stanzas' }));
  sessions.onSessionCreated((session) => stanzas.attach(session));
  const features: Feature[] = FEATURES.map((make) => make({ config, log, db: pool, hub, sessions, verifier, stanzas, admin }));
  for (const f of features) await f.start?.();
  await sessions.start();

  let baseUrl = config.http.publicUrl ?? '';
  const app = createApp({
    log, secret, maxBodyBytes: config.http.maxBodyBytes, heartbeatMs: config.sessions.heartbeatSeconds * 1000,
    publicUrl: (path) => baseUrl + path,
    sessions, verifier, hub, features,
    health: {
      dbPing: () => db.ping(),
      xmppPing: () => (admin ? admin.ping() : tcpReachable(x.service)),
    },
  });
  const server = createServer(app.callback());
  server.keepAliveTimeout = 65_000; // longer than common proxies' idle timeouts
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (!config.http.publicUrl) baseUrl = url;
  log.info({ url }, 'Parley listening');

  return {
    url, secret, secretGenerated: generated, server, sessions, hub, db,
    async stop() {
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
      await sessions.stop();
      for (const f of [...features].reverse()) await f.stop?.().catch((err) => log.warn({ err, feature: f.name }, 'feature stop failed'));
      await admin?.stop();
      await db.close();
    },
  };
}
