import type { OutboundLimits } from '../xmpp/client/OutboundBudget.js';
import type { Env } from './env.js';

/** What the gateway is configured with: one typed, frozen object, made by loadConfig from the environment. */
export interface Config {
  /** corsOrigins: browsers on these origins may call the API (`*`: any; [] none) */
  http: {
    port: number;
    host: string;
    publicUrl?: string;
    maxBodyBytes: number;
    corsOrigins: string[] | '*';
  };
  /** the Openfire-compatible face (`/rest/api/restapi/v1`): how long `POST /ask` holds the request open */
  ofchat: { askWaitSeconds: number };
  secret?: string;
  dataDir: string;
  instanceId?: string;
  /** how the other gateway instances reach this one (cluster forwarding); default the listen address */
  internalUrl?: string;
  /** tokenTtlSeconds: a session token's absolute lifetime, counted from the login that issued it */
  sessions: { idleSeconds: number; tokenTtlSeconds: number; heartbeatSeconds: number; restore: boolean };
  logLevel: Env['PARLEY_LOG_LEVEL'];
  /** json (default) for log collectors, pretty for people (the demo) */
  logFormat: 'json' | 'pretty';
  /** public: GET /metrics needs no credentials (else the master secret) */
  metrics: { public: boolean };
  /**
   * opsAllow: client addresses (CIDRs) that may use the admin API and /metrics without the master secret;
   * trustedProxies: peers whose X-Forwarded-For names the client; clusterKey: authenticates calls one
   * instance forwards to another (default derived from the master secret)
   */
  network: { opsAllow: string[]; trustedProxies: string[]; clusterKey?: string };
  /** catchUpDays: how far back a user's first login reads their server archive */
  /** localReceipts: a receipt between two sessions of this instance is recorded without an XMPP round trip */
  chat: { catchUpDays: number; localReceipts: boolean };
  /** ringSeconds: an unanswered call (XEP-0353 propose) ends as missed after this long */
  calls: { ringSeconds: number };
  /** storage: where room bookmarks live (auto: XEP-0402 PEP when the server offers it, else XEP-0048) */
  bookmarks: { storage: 'auto' | 'pep' | 'private' };
  /** meetingUrlTemplate: the https meeting link of a room in invitations, `{room}` its name (ofchat's ofmeet URL) */
  rooms: { meetingUrlTemplate?: string };
  xmpp: {
    domain: string;
    service: string;
    componentService: string;
    mucService: string;
    adminJid?: string;
    adminPassword?: string;
    componentSecret?: string;
    reconnectMaxSeconds: number;
    /** SASL PLAIN without TLS to a server that is not on loopback (a trusted private network only) */
    allowPlainUnencrypted: boolean;
    /**
     * the trust path (docs/accounts.md): master-secret logins present tokens signed with this secret, which
     * the XMPP server shares, so any existing account can be opened without its password
     */
    loginTokenSecret?: string;
    /** Basic credentials of an XMPP server admin act for any user, as ofchat's AuthFilter lets them */
    adminBasic: boolean;
    /** backpressure: sends are refused (429/503) past these bounds of the server's backlog (stanzas, time) */
    outbound: OutboundLimits;
    /** sends in progress are bounded adaptively so the shortest stays under this (ms; 0: no bound) */
    sendTargetMs: number;
  };
  /** gatherMs: while writes come often, how long the first of a statement waits for more (0: never) */
  database: { url?: string; poolMax: number; gatherMs: number };
  redis: { url?: string };
  /** BigBlueButton chat bridge; off unless BBB_SECRET is set. */
  bbb: {
    secret?: string;
    version: 2 | 3;
    checksumWindowSeconds: number;
    roomName: string;
    closeRooms: boolean;
  };
  /** signed callback delivery (the BBB bridge's outbox) */
  callbacks: { allowHosts: string[]; retryHorizonSeconds: number; backoffMaxSeconds: number };
  /**
   * attachments: dir holds the content-addressed files (default <dataDir>/files); allowedTypes are sniffed
   * media types (`image/*` wildcards); capabilityUrls: anyone holding a file URL may download it.
   */
  files: { dir: string; maxUploadBytes: number; allowedTypes: string[]; capabilityUrls: boolean };
  /**
   * adminJids: bare JIDs whose Basic/session callers may use the admin API; monitorPollSeconds: live
   * monitor's database poll; aclRefreshSeconds: how often the in-memory mute/disable list is read again
   * whatever the cluster bus said (the safety net for a lost invalidation)
   */
  moderation: { adminJids: string[]; monitorPollSeconds: number; aclRefreshSeconds: number };
  /** what one client, account or visitor can make the gateway do (docs/security.md, "Limits") */
  limits: LimitsConfig;
  /**
   * the embedding site (docs/host-site.md): loginKey signs its users' login tokens, which may live at most
   * loginMaxSeconds; usersUrl answers profiles (Star.Comet's URL_getUsersInfo), cached usersTtlSeconds
   */
  hostSite: { loginKey?: string; loginMaxSeconds: number; usersUrl?: string; usersTtlSeconds: number };
  /** site sync between deployments (docs/site-sync.md); role off: the feature answers 501 */
  sync: SyncConfig;
}

/**
 * role: host (the central deployment sites phone home to) or site; key: on a host the key each site's
 * own is derived from, on a site its own (signing.ts siteKey);
 * hostUrl: where a site reaches its host; sites: the site domains a host accepts; intervalSeconds: how
 * often a site calls home (also at once after a local message); component: the XEP-0114 domain remote
 * users appear under (`alice\40site.example@sync.host.example`).
 */
export interface SyncConfig {
  role: 'off' | 'host' | 'site';
  key?: string;
  hostUrl?: string;
  sites: string[];
  intervalSeconds: number;
  component: string;
}

export interface LimitsConfig {
  ask: { perIpPerMinute: number; perWorkgroupPerMinute: number; queueMax: number };
  /** maxStreamsPerUser: per user and per visitor request, this instance; maxBufferBytes: unread bytes before a stream is dropped */
  sse: { maxStreamsPerUser: number; maxBufferBytes: number };
  /**
   * Failed password checks before backing off (per user+IP, per IP, per user); the wait doubles with each
   * further failure up to backoffMaxSeconds. concurrentPerIp: password checks in flight from one address.
   * failureBudget per failureBudgetSeconds: failures the instance absorbs before failed addresses wait.
   */
  login: {
    maxFailures: number;
    maxFailuresPerIp: number;
    maxFailuresPerUser: number;
    backoffMaxSeconds: number;
    concurrentPerIp: number;
    failureBudget: number;
    failureBudgetSeconds: number;
  };
  uploads: { quotaBytes: number; maxImagePixels: number; thumbnailConcurrency: number };
}
