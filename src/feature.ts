import type Router from '@koa/router';
import type { Config } from './config/loadConfig.js';
import type { Log } from './log.js';
import type { Pool } from './store/db.js';
import type { EventHub } from './sse/EventHub.js';
import type { SessionManager } from './sessions/SessionManager.js';
import type { StanzaRouter } from './xmpp/StanzaRouter.js';
import type { AdminConnection } from './xmpp/admin/AdminConnection.js';
import type { AccessDeps } from './http/access.js';
import type { SecretBox } from './crypto/SecretBox.js';
import type { MessageLog } from './messages/MessageLog.js';
import type { ClusterPeers } from './cluster/Cluster.js';
import type { LimiterFactory } from './limits/limiter.js';

/**
 * A capability of the gateway (chat, contacts, rooms, …): it owns its routes, its SQL and its stanza
 * handling. The composition root (startParley.ts) builds each one from a factory that takes only the
 * parts of the GatewayContext it names (a Pick<>) plus the other features' ports it uses, registers
 * the routes and starts/stops the features. Nothing depends on their order: what one feature needs of
 * another is a port passed in (moderation's SendPolicy), and stanzas are matched by what they carry
 * (StanzaRouter), not by who registered first.
 */
export interface Feature {
  name: string;
  /** Register HTTP routes; specific paths must come before `/restapi/v1/chat/:streamid`-style ones. */
  routes?(router: Router, access: AccessDeps): void;
  /**
   * The POST routes among them that send a message through a user's session (templates starting with
   * `/restapi/v1/chat/:streamid/`): refused at the door while that session or the instance is behind
   * (http/middleware/shedSends.ts), before their token, body or route is looked at.
   */
  sendRoutes?: readonly string[];
  /**
   * Those of them answered once this instance has done its own work (a 1:1 message: once stored), not
   * after a reply from the server: their time in the gateway drives the adaptive bound on sends in progress
   * (limits/SendConcurrency.ts).
   */
  timedSendRoutes?: readonly string[];
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** What the composition root has to give; a factory declares the part it needs as Pick<GatewayContext, …>. */
export interface GatewayContext {
  config: Readonly<Config>;
  log: Log;
  db: Pool;
  /** the only way to the messages and events tables */
  messages: MessageLog;
  hub: EventHub;
  sessions: SessionManager;
  stanzas: StanzaRouter;
  admin?: AdminConnection;
  /** seals what must be stored but stay secret (keyed from PARLEY_SECRET) */
  box: SecretBox;
  /** the other gateway instances (a no-op without Redis) */
  peers?: ClusterPeers;
  /** rate-limit counters (Redis across the cluster when configured, else this instance's memory) */
  limiter: LimiterFactory;
}
