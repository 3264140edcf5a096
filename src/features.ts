import type Router from '@koa/router';
import type { Config } from './config/loadConfig.js';
import type { Log } from './log.js';
import type { Pool } from './store/db.js';
import type { EventHub } from './sse/EventHub.js';
import type { SessionManager } from './sessions/SessionManager.js';
import type { CredentialVerifier } from './sessions/CredentialVerifier.js';
import type { StanzaRouter } from './xmpp/StanzaRouter.js';
import type { AdminConnection } from './xmpp/admin/AdminConnection.js';
import type { AccessDeps } from './http/access.js';
import type { SecretBox } from './crypto/SecretBox.js';
import type { LimiterFactory } from './limits/limiter.js';
import { createChatFeature } from './chat/index.js';
import { createCallsFeature } from './calls/index.js';
import { createRoomsFeature } from './rooms/createRoomsFeature.js';
import { createContactsFeature } from './contacts/createContactsFeature.js';
import { createWorkgroupFeature } from './workgroup/index.js';
import { createBbbFeature } from './bbb/createBbbFeature.js';
import { createModerationFeature } from './moderation/createModerationFeature.js';
import { createAttachmentsFeature } from './attachments/createAttachmentsFeature.js';

/**
 * A capability of the gateway (chat, contacts, rooms, …): it owns its routes, its SQL and its stanza
 * handling, and gets what it needs from this context. startParley builds every factory listed in
 * FEATURES, registers their routes and starts/stops them in order.
 */
export interface FeatureContext {
  config: Readonly<Config>;
  log: Log;
  db: Pool;
  hub: EventHub;
  sessions: SessionManager;
  verifier: CredentialVerifier;
  stanzas: StanzaRouter;
  admin?: AdminConnection;
  /** seals what must be stored but stay secret (keyed from PARLEY_SECRET) */
  box: SecretBox;
  /** rate-limit counters (Redis across the cluster when configured, else this instance's memory) */
  limiter: LimiterFactory;
}

export interface Feature {
  name: string;
  /** Register HTTP routes; specific paths must come before `/restapi/v1/chat/:streamid`-style ones. */
  routes?(router: Router, access: AccessDeps): void;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export type FeatureFactory = (ctx: FeatureContext) => Feature;

/** Order matters only for stanza handlers (first to return true consumes the stanza). */
export const FEATURES: FeatureFactory[] = [
  createModerationFeature, // first: its ACL guard must run before the chat and room routes
  createRoomsFeature,
  createChatFeature,
  createCallsFeature,
  createWorkgroupFeature,
  createContactsFeature,
  createBbbFeature,
  createAttachmentsFeature,
];
