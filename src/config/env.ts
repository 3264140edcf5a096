import { z } from 'zod';
import { isAddressOrCidr } from '../http/clientAddress.js';
import { LOGIN_TOKEN_SECRET_MIN } from '../xmpp/client/LoginTokens.js';

/**
 * The environment's schema: every variable Parley reads, its type, default and bounds (each documented in
 * .env.example and docs/operations.md). loadConfig.ts turns a parsed environment into the Config.
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
export const isLoopbackHost = (h: string): boolean => LOOPBACK_HOSTS.has(h) || /^127\./.test(h);

/** Comma-separated IP addresses and CIDR ranges (IPv4 or IPv6); `none` for an empty list. */
const addressList = z
  .string()
  .refine((v) => v.trim() === 'none' || v.split(',').every((a) => isAddressOrCidr(a.trim())), {
    message: 'must be a comma-separated list of IP addresses or CIDR ranges, or none',
  });

export const EnvSchema = z.object({
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
  PARLEY_LOCAL_RECEIPTS: z.enum(['true', 'false']).default('true'),
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
  PARLEY_SEND_MAX_DELAY_MS: z.coerce.number().int().min(10).max(600_000).default(250),
  PARLEY_SEND_MAX_TRANSIT_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
  PARLEY_SEND_MAX_STALL_MS: z.coerce.number().int().min(10).max(600_000).default(1500),
  PARLEY_SEND_TARGET_MS: z.coerce.number().int().min(0).max(600_000).default(25),
  PARLEY_SEND_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(1024 * 1024),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  PARLEY_GROUP_COMMIT_GATHER_MS: z.coerce.number().int().min(0).max(50).default(2),
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

export type Env = z.infer<typeof EnvSchema>;
