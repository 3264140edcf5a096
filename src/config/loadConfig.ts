import { z } from 'zod';
import { isAddressOrCidr, parseAddressList } from '../http/clientAddress.js';
import type { OutboundLimits } from '../xmpp/client/OutboundBudget.js';
import { LOGIN_TOKEN_SECRET_MIN } from '../xmpp/client/LoginTokens.js';

/**
 * Environment → one typed, frozen Config. Every variable is documented in .env.example.
 * A bad value stops start-up with one line per problem naming the variable.
 */
const port = z.coerce.number().int().min(0).max(65535);
const positiveSeconds = z.coerce.number().positive();
const optionalString = z.string().min(1).optional();
const count = z.coerce.number().int().min(1);
const url = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${schemes.join(' or ')})` },
  );

/** Shortest BBB_SECRET accepted: 32 characters is `openssl rand -hex 16`, 128 bits. */
export const BBB_SECRET_MIN = 32;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const isLoopbackHost = (h: string): boolean => LOOPBACK_HOSTS.has(h) || /^127\./.test(h);

/** Comma-separated IP addresses and CIDR ranges (IPv4 or IPv6); `none` for an empty list. */
const addressList = z
  .string()
  .refine((v) => v.trim() === 'none' || v.split(',').every((a) => isAddressOrCidr(a.trim())), {
    message: 'must be a comma-separated list of IP addresses or CIDR ranges, or none',
  });

const EnvSchema = z.object({
  PARLEY_PORT: port.default(8080),
  PARLEY_HOST: z.string().min(1).default('127.0.0.1'),
  PARLEY_PUBLIC_URL: url(['http:', 'https:']).optional(),
  PARLEY_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  PARLEY_DATA_DIR: z.string().min(1).default('.parley'),
  PARLEY_INSTANCE_ID: optionalString,
  PARLEY_INTERNAL_URL: url(['http:', 'https:']).optional(),
  PARLEY_SESSION_IDLE_SECONDS: positiveSeconds.default(900),
  PARLEY_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(31_536_000).default(86_400),
  PARLEY_SSE_HEARTBEAT_SECONDS: positiveSeconds.default(15),
  PARLEY_SESSION_RESTORE: z.enum(['true', 'false']).default('true'),
  PARLEY_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),
  PARLEY_CATCHUP_DAYS: z.coerce.number().min(0).max(3650).default(7),
  PARLEY_CALL_RING_SECONDS: z.coerce.number().min(1).max(600).default(45),
  PARLEY_BOOKMARKS_STORAGE: z.enum(['auto', 'pep', 'private']).default('auto'),
  PARLEY_MEETING_URL_TEMPLATE: z
    .string()
    .url()
    .refine((u) => u.startsWith('https://') && u.includes('{room}'), 'an https URL with a {room} placeholder')
    .optional(),
  PARLEY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PARLEY_LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  PARLEY_METRICS_PUBLIC: z.enum(['true', 'false']).default('false'),
  PARLEY_OPS_ALLOW: addressList.default('127.0.0.0/8,::1'),
  PARLEY_TRUSTED_PROXIES: addressList.default('127.0.0.0/8,::1'),
  PARLEY_CLUSTER_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  XMPP_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+$/i, 'must be a DNS domain')
    .default('localhost'),
  XMPP_SERVICE: url(['xmpp:', 'xmpps:']).default('xmpp://127.0.0.1:5222'),
  XMPP_COMPONENT_SERVICE: url(['xmpp:']).default('xmpp://127.0.0.1:5347'),
  XMPP_ADMIN_JID: z
    .string()
    .regex(/^[^@/\s]+@[^@/\s]+$/, 'must be a bare JID like admin@example.org')
    .optional(),
  XMPP_ADMIN_PASSWORD: optionalString,
  XMPP_COMPONENT_SECRET: optionalString,
  XMPP_MUC_SERVICE: optionalString,
  XMPP_RECONNECT_MAX_SECONDS: positiveSeconds.default(30),
  XMPP_ALLOW_PLAIN_UNENCRYPTED: z.enum(['true', 'false']).default('false'),
  // Shared with the XMPP server (Prosody's mod_auth_parley, ejabberd's jwt_key): whoever holds it logs in as anyone.
  XMPP_LOGIN_TOKEN_SECRET: z
    .string()
    .min(
      LOGIN_TOKEN_SECRET_MIN,
      `must be at least ${LOGIN_TOKEN_SECRET_MIN} characters (e.g. openssl rand -hex 32)`,
    )
    .optional(),
  PARLEY_ADMIN_BASIC: z.enum(['true', 'false']).default('true'),
  PARLEY_SEND_QUEUE_SESSION: z.coerce.number().int().min(1).max(1_000_000).default(500),
  PARLEY_SEND_QUEUE_INSTANCE: z.coerce.number().int().min(1).max(10_000_000).default(5000),
  PARLEY_SEND_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(1024 * 1024),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  // A checksum (sha512 over known text + secret + time) lets anyone who sees one guess a short secret offline.
  BBB_SECRET: z
    .string()
    .min(BBB_SECRET_MIN, `must be at least ${BBB_SECRET_MIN} characters (e.g. openssl rand -hex 32)`)
    .optional(),
  BBB_VERSION: z.enum(['2', '3']).default('2'),
  BBB_CHECKSUM_WINDOW_SECONDS: z.coerce.number().int().min(1).max(300).default(5),
  BBB_ROOM_NAME: z
    .string()
    .includes('{meeting}', { message: 'must contain {meeting}' })
    .default('bbb-{meeting}'),
  BBB_CLOSE_ROOMS: z.enum(['true', 'false']).default('true'),
  PARLEY_CALLBACK_ALLOW_HOSTS: z
    .string()
    .regex(/^[\w.:/[\], -]*$/, 'must be a comma-separated list of hosts, IPs or CIDRs')
    .default(''),
  PARLEY_CALLBACK_RETRY_HORIZON_SECONDS: positiveSeconds.default(86_400),
  PARLEY_CALLBACK_BACKOFF_MAX_SECONDS: positiveSeconds.default(300),
  PARLEY_FILES_DIR: optionalString,
  PARLEY_MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(25 * 1024 * 1024),
  PARLEY_ALLOWED_TYPES: z
    .string()
    .regex(
      /^\s*[\w.+*-]+\/[\w.+*-]+\s*(,\s*[\w.+*-]+\/[\w.+*-]+\s*)*$/,
      'must be a comma-separated list of media types like image/*,application/pdf',
    )
    .default('image/*,audio/*,video/*,application/pdf,text/plain'),
  PARLEY_FILES_CAPABILITY_URLS: z.enum(['true', 'false']).default('false'),
  PARLEY_ADMIN_JIDS: z
    .string()
    .regex(
      /^([^@/\s,]+@[^@/\s,]+)?(\s*,\s*[^@/\s,]+@[^@/\s,]+)*$/,
      'must be a comma-separated list of bare JIDs',
    )
    .default(''),
  PARLEY_MONITOR_POLL_SECONDS: z.coerce.number().min(0.05).max(60).default(1),
  PARLEY_ACL_REFRESH_SECONDS: z.coerce.number().min(0.05).max(3600).default(5),
  // Limits (docs/security.md, "Limits"): what a stranger or one account can make the gateway do.
  PARLEY_ASK_PER_IP_PER_MINUTE: count.default(30),
  PARLEY_ASK_PER_WORKGROUP_PER_MINUTE: count.default(300),
  PARLEY_ASK_QUEUE_MAX: count.default(500),
  PARLEY_SSE_MAX_STREAMS_PER_USER: count.default(10),
  PARLEY_SSE_MAX_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(16 * 1024)
    .default(1024 * 1024),
  PARLEY_LOGIN_MAX_FAILURES: count.default(5),
  PARLEY_LOGIN_MAX_FAILURES_PER_IP: count.default(30),
  PARLEY_LOGIN_MAX_FAILURES_PER_USER: count.default(100),
  PARLEY_LOGIN_BACKOFF_MAX_SECONDS: positiveSeconds.default(900),
  PARLEY_LOGIN_CONCURRENT_PER_IP: count.default(32),
  PARLEY_LOGIN_FAILURE_BUDGET: count.default(20),
  PARLEY_LOGIN_FAILURE_BUDGET_SECONDS: count.default(10),
  PARLEY_UPLOAD_QUOTA_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(1024 * 1024 * 1024),
  PARLEY_MAX_IMAGE_PIXELS: z.coerce.number().int().min(1).default(50_000_000),
  PARLEY_THUMBNAIL_CONCURRENCY: count.default(2),
  // Host-site integration (docs/host-site.md): the key signs login tokens, so it is as strong as a secret.
  PARLEY_HOST_LOGIN_KEY: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
    .optional(),
  PARLEY_HOST_LOGIN_MAX_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
  PARLEY_HOST_USERS_URL: url(['http:', 'https:']).optional(),
  PARLEY_HOST_USERS_TTL_SECONDS: z.coerce.number().int().min(1).max(604_800).default(600),
  // Site sync (docs/site-sync.md): a site phones home to a host; a site's key is derived from the host's.
  PARLEY_SYNC_ROLE: z.enum(['off', 'host', 'site']).default('off'),
  PARLEY_SYNC_KEY: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
    .optional(),
  PARLEY_SYNC_HOST_URL: url(['http:', 'https:']).optional(),
  PARLEY_SYNC_SITES: z
    .string()
    .regex(/^\s*([a-z0-9.-]+\s*(,\s*[a-z0-9.-]+\s*)*)?$/i, 'must be a comma-separated list of XMPP domains')
    .default(''),
  PARLEY_SYNC_INTERVAL_SECONDS: z.coerce.number().min(0.1).max(86_400).default(30),
  PARLEY_SYNC_COMPONENT: z
    .string()
    .regex(/^[a-z0-9.-]+$/i, 'must be a DNS domain')
    .optional(),
  PARLEY_CORS_ORIGINS: z
    .string()
    .refine((v) => corsOrigins(v) !== undefined, {
      message: 'must be none, * or a comma-separated list of origins such as https://shop.example.com',
    })
    .default('none'),
  PARLEY_OFCHAT_ASK_WAIT_SECONDS: z.coerce.number().int().min(1).max(600).default(180),
});

/**
 * PARLEY_CORS_ORIGINS → the allowed origins: `none` (no CORS headers, the default), `*` (any origin), or
 * scheme://host[:port] origins; undefined when a value is not an origin (so the schema can refuse it).
 */
export function corsOrigins(raw: string): string[] | '*' | undefined {
  const v = raw.trim();
  if (v === 'none' || v === '') return [];
  if (v === '*') return '*';
  const out: string[] = [];
  for (const part of v.split(',').map((s) => s.trim())) {
    let u: URL;
    try {
      u = new URL(part);
    } catch {
      return undefined;
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== part.replace(/\/$/, ''))
      return undefined;
    out.push(u.origin);
  }
  return out;
}

/** Every variable Parley reads (a test checks .env.example documents each one). */
export const ENV_VARS = Object.keys(EnvSchema.shape);

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
  logLevel: z.infer<typeof EnvSchema>['PARLEY_LOG_LEVEL'];
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
  chat: { catchUpDays: number };
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
    /** backpressure: sends are refused (429/503) past these bounds of what the server has not acknowledged */
    outbound: OutboundLimits;
  };
  database: { url?: string; poolMax: number };
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

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  // Empty strings count as unset so `VAR=` in an env file means "use the default".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.XMPP_ADMIN_JID && !e.XMPP_ADMIN_PASSWORD)
    problems.push('XMPP_ADMIN_PASSWORD: required when XMPP_ADMIN_JID is set');
  if (e.BBB_SECRET && !e.REDIS_URL)
    problems.push('REDIS_URL: required when BBB_SECRET is set (the BigBlueButton link is Redis)');
  // Absolute URLs (file links in messages, Location headers) are never built from the request's Host or
  // X-Forwarded-* headers: PARLEY_PUBLIC_URL, else the address this instance listens on, which is right
  // only when the clients are on this machine.
  // NODE_ENV is the platform's convention (the ansible role sets it), not a Parley setting: read as is.
  const production = cleaned.NODE_ENV === 'production';
  if (!e.PARLEY_PUBLIC_URL && (production || !isLoopbackHost(e.PARLEY_HOST)))
    problems.push(
      `PARLEY_PUBLIC_URL: required when ${production ? 'NODE_ENV=production' : `PARLEY_HOST (${e.PARLEY_HOST}) is not a loopback address`}: the public base URL clients reach Parley at (behind a proxy, the proxy's https:// address)`,
    );
  problems.push(...syncProblems(e));
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze({
    http: {
      port: e.PARLEY_PORT,
      host: e.PARLEY_HOST,
      publicUrl: e.PARLEY_PUBLIC_URL,
      maxBodyBytes: e.PARLEY_MAX_BODY_BYTES,
      corsOrigins: corsOrigins(e.PARLEY_CORS_ORIGINS)!,
    },
    ofchat: { askWaitSeconds: e.PARLEY_OFCHAT_ASK_WAIT_SECONDS },
    secret: e.PARLEY_SECRET,
    dataDir: e.PARLEY_DATA_DIR,
    instanceId: e.PARLEY_INSTANCE_ID,
    internalUrl: e.PARLEY_INTERNAL_URL,
    sessions: {
      idleSeconds: e.PARLEY_SESSION_IDLE_SECONDS,
      tokenTtlSeconds: e.PARLEY_TOKEN_TTL_SECONDS,
      heartbeatSeconds: e.PARLEY_SSE_HEARTBEAT_SECONDS,
      restore: e.PARLEY_SESSION_RESTORE === 'true',
    },
    logLevel: e.PARLEY_LOG_LEVEL,
    logFormat: e.PARLEY_LOG_FORMAT,
    metrics: { public: e.PARLEY_METRICS_PUBLIC === 'true' },
    network: {
      opsAllow: parseAddressList(e.PARLEY_OPS_ALLOW),
      trustedProxies: parseAddressList(e.PARLEY_TRUSTED_PROXIES),
      clusterKey: e.PARLEY_CLUSTER_KEY,
    },
    chat: { catchUpDays: e.PARLEY_CATCHUP_DAYS },
    calls: { ringSeconds: e.PARLEY_CALL_RING_SECONDS },
    bookmarks: { storage: e.PARLEY_BOOKMARKS_STORAGE },
    rooms: { meetingUrlTemplate: e.PARLEY_MEETING_URL_TEMPLATE },
    xmpp: {
      domain: e.XMPP_DOMAIN.toLowerCase(),
      service: e.XMPP_SERVICE,
      componentService: e.XMPP_COMPONENT_SERVICE,
      mucService: e.XMPP_MUC_SERVICE ?? `conference.${e.XMPP_DOMAIN.toLowerCase()}`,
      adminJid: e.XMPP_ADMIN_JID,
      adminPassword: e.XMPP_ADMIN_PASSWORD,
      componentSecret: e.XMPP_COMPONENT_SECRET,
      reconnectMaxSeconds: e.XMPP_RECONNECT_MAX_SECONDS,
      allowPlainUnencrypted: e.XMPP_ALLOW_PLAIN_UNENCRYPTED === 'true',
      loginTokenSecret: e.XMPP_LOGIN_TOKEN_SECRET,
      adminBasic: e.PARLEY_ADMIN_BASIC === 'true',
      outbound: {
        maxPerSession: e.PARLEY_SEND_QUEUE_SESSION,
        maxPerInstance: e.PARLEY_SEND_QUEUE_INSTANCE,
        maxSessionBytes: e.PARLEY_SEND_BUFFER_BYTES,
      },
    },
    database: { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX },
    redis: { url: e.REDIS_URL },
    bbb: {
      secret: e.BBB_SECRET,
      version: e.BBB_VERSION === '3' ? 3 : 2,
      checksumWindowSeconds: e.BBB_CHECKSUM_WINDOW_SECONDS,
      roomName: e.BBB_ROOM_NAME,
      closeRooms: e.BBB_CLOSE_ROOMS === 'true',
    },
    callbacks: {
      allowHosts: e.PARLEY_CALLBACK_ALLOW_HOSTS.split(',')
        .map((h) => h.trim())
        .filter(Boolean),
      retryHorizonSeconds: e.PARLEY_CALLBACK_RETRY_HORIZON_SECONDS,
      backoffMaxSeconds: e.PARLEY_CALLBACK_BACKOFF_MAX_SECONDS,
    },
    files: {
      dir: e.PARLEY_FILES_DIR ?? `${e.PARLEY_DATA_DIR}/files`,
      maxUploadBytes: e.PARLEY_MAX_UPLOAD_BYTES,
      allowedTypes: e.PARLEY_ALLOWED_TYPES.split(',')
        .map((t) => t.trim().toLowerCase())
        .filter(Boolean),
      capabilityUrls: e.PARLEY_FILES_CAPABILITY_URLS === 'true',
    },
    moderation: {
      adminJids: e.PARLEY_ADMIN_JIDS.split(',')
        .map((j) => j.trim().toLowerCase())
        .filter(Boolean),
      monitorPollSeconds: e.PARLEY_MONITOR_POLL_SECONDS,
      aclRefreshSeconds: e.PARLEY_ACL_REFRESH_SECONDS,
    },
    limits: {
      ask: {
        perIpPerMinute: e.PARLEY_ASK_PER_IP_PER_MINUTE,
        perWorkgroupPerMinute: e.PARLEY_ASK_PER_WORKGROUP_PER_MINUTE,
        queueMax: e.PARLEY_ASK_QUEUE_MAX,
      },
      sse: {
        maxStreamsPerUser: e.PARLEY_SSE_MAX_STREAMS_PER_USER,
        maxBufferBytes: e.PARLEY_SSE_MAX_BUFFER_BYTES,
      },
      login: {
        maxFailures: e.PARLEY_LOGIN_MAX_FAILURES,
        maxFailuresPerIp: e.PARLEY_LOGIN_MAX_FAILURES_PER_IP,
        maxFailuresPerUser: e.PARLEY_LOGIN_MAX_FAILURES_PER_USER,
        backoffMaxSeconds: e.PARLEY_LOGIN_BACKOFF_MAX_SECONDS,
        concurrentPerIp: e.PARLEY_LOGIN_CONCURRENT_PER_IP,
        failureBudget: e.PARLEY_LOGIN_FAILURE_BUDGET,
        failureBudgetSeconds: e.PARLEY_LOGIN_FAILURE_BUDGET_SECONDS,
      },
      uploads: {
        quotaBytes: e.PARLEY_UPLOAD_QUOTA_BYTES,
        maxImagePixels: e.PARLEY_MAX_IMAGE_PIXELS,
        thumbnailConcurrency: e.PARLEY_THUMBNAIL_CONCURRENCY,
      },
    },
    hostSite: {
      loginKey: e.PARLEY_HOST_LOGIN_KEY,
      loginMaxSeconds: e.PARLEY_HOST_LOGIN_MAX_SECONDS,
      usersUrl: e.PARLEY_HOST_USERS_URL,
      usersTtlSeconds: e.PARLEY_HOST_USERS_TTL_SECONDS,
    },
    sync: {
      role: e.PARLEY_SYNC_ROLE,
      key: e.PARLEY_SYNC_KEY,
      hostUrl: e.PARLEY_SYNC_HOST_URL?.replace(/\/+$/, ''),
      sites: e.PARLEY_SYNC_SITES.split(',')
        .map((d) => d.trim().toLowerCase())
        .filter(Boolean),
      intervalSeconds: e.PARLEY_SYNC_INTERVAL_SECONDS,
      component: (e.PARLEY_SYNC_COMPONENT ?? `sync.${e.XMPP_DOMAIN}`).toLowerCase(),
    },
  });
}

/** What a sync role needs besides its own variables: a key, a component secret, a public URL for file links. */
function syncProblems(e: z.infer<typeof EnvSchema>): string[] {
  if (e.PARLEY_SYNC_ROLE === 'off') return [];
  const role = `PARLEY_SYNC_ROLE=${e.PARLEY_SYNC_ROLE}`;
  const problems: string[] = [];
  if (!e.PARLEY_SYNC_KEY) problems.push(`PARLEY_SYNC_KEY: required when ${role}`);
  if (!e.XMPP_COMPONENT_SECRET)
    problems.push(`XMPP_COMPONENT_SECRET: required when ${role} (remote users are a component)`);
  // Files received from the other side are linked from messages delivered outside any request.
  if (!e.PARLEY_PUBLIC_URL)
    problems.push(`PARLEY_PUBLIC_URL: required when ${role} (links to files received from the other side)`);
  if (e.PARLEY_SYNC_ROLE === 'site' && !e.PARLEY_SYNC_HOST_URL)
    problems.push(`PARLEY_SYNC_HOST_URL: required when ${role}`);
  if (e.PARLEY_SYNC_ROLE === 'host' && !e.PARLEY_SYNC_SITES.trim())
    problems.push(`PARLEY_SYNC_SITES: required when ${role} (the site domains this host accepts)`);
  return problems;
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === 'object') for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}
