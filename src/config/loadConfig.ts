import { parseAddressList } from '../http/clientAddress.js';
import { corsOrigins, EnvSchema, isLoopbackHost, type Env } from './env.js';
import type { Config } from './types.js';

export { BBB_SECRET_MIN, corsOrigins, ENV_VARS } from './env.js';
export type { Config, LimitsConfig, SyncConfig } from './types.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Environment → one typed, frozen Config. Every variable is documented in .env.example.
 * A bad value stops start-up with one line per problem naming the variable.
 */
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
    chat: { catchUpDays: e.PARLEY_CATCHUP_DAYS, localReceipts: e.PARLEY_LOCAL_RECEIPTS === 'true' },
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
        maxDelayMs: e.PARLEY_SEND_MAX_DELAY_MS,
        maxTransitMs: e.PARLEY_SEND_MAX_TRANSIT_MS,
        maxStallMs: e.PARLEY_SEND_MAX_STALL_MS,
      },
      sendTargetMs: e.PARLEY_SEND_TARGET_MS,
    },
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      gatherMs: e.PARLEY_GROUP_COMMIT_GATHER_MS,
    },
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
function syncProblems(e: Env): string[] {
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
