import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger, type SerializedError } from 'pino';

export type Log = Logger;
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  /** `json` (default): one JSON object per line, for journald/Loki/ELK. `pretty`: a readable line for humans (the demo). */
  format?: LogFormat;
  /** where lines go; default stdout */
  destination?: NodeJS.WritableStream;
}

/**
 * What every line logged while handling one request carries (its `requestId`). Set by the HTTP layer
 * with `withLogContext`; read by the logger's mixin, so no logger has to be passed the id by hand.
 * AsyncLocalStorage is per async context, not shared mutable state: concurrent requests never see each
 * other's id.
 */
export interface LogContext {
  requestId: string;
}
const logContext = new AsyncLocalStorage<LogContext>();

/** Runs `fn` so that every line it logs (through any Parley logger) carries `ctx`. */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return logContext.run(ctx, fn);
}

/**
 * Runs `fn` outside any request context. Long-lived resources (an XMPP socket opened by a login request)
 * must be created here, or every event they emit later would be logged under that first request's id.
 */
export function outsideLogContext<T>(fn: () => T): T {
  return logContext.exit(fn);
}

// --- redaction -------------------------------------------------------------------------------------

/** Keys whose values never reach a log line, at any of the first three levels of a logged object. */
const SECRET_KEYS = [
  'password',
  'adminPassword',
  'passwordEnc',
  'password_enc',
  'secret',
  'componentSecret',
  'callbackSecret',
  'callback_secret',
  'token',
  'tokens',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'apiKey',
  'PARLEY_SECRET',
  'XMPP_ADMIN_PASSWORD',
  'XMPP_COMPONENT_SECRET',
];
/** Keys holding URLs: logged with any password in them (and any `token=` or `ticket=` query) masked. */
const URL_KEYS = [
  'url',
  'databaseUrl',
  'redisUrl',
  'connectionString',
  'DATABASE_URL',
  'REDIS_URL',
  'events',
];
const HEADER_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'req.headers["x-parley-token"]',
  'headers["x-parley-token"]',
  'res.headers["x-parley-token"]',
];

const atDepths = (k: string): string[] => [k, `*.${k}`, `*.*.${k}`];
export const REDACT_PATHS = [...[...SECRET_KEYS, ...URL_KEYS].flatMap(atDepths), ...HEADER_PATHS];

const SECRET_KEY = new RegExp(`^(?:${SECRET_KEYS.join('|')})$`, 'i');
const URL_KEY = new RegExp(`^(?:${URL_KEYS.join('|')})$`, 'i');
export const REDACTED = '[Redacted]';

/**
 * `scheme://user:pass@host` → `scheme://user:***@host`; `token=abc` → `token=***`. Anything else as is.
 * A stream ticket is masked too: until it is used (within 60 s) it opens the stream.
 */
export function maskSecretsInText(s: string): string {
  return s
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/?#\s]*@/gi, '$1***@')
    .replace(/([?&](?:token|ticket|secret|password|checksum)=)[^&#\s"']*/gi, '$1***');
}

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (URL_KEY.test(key) && !SECRET_KEY.test(key))
    return typeof value === 'string' ? maskSecretsInText(value) : value;
  return value === undefined ? value : REDACTED;
}

/**
 * A copy of `value` with secret-named keys censored and credentials in strings masked, at any depth.
 * Only plain objects and arrays are copied; other instances (XML elements, buffers) are kept as they are.
 */
export function scrub(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return maskSecretsInText(value);
  if (!value || typeof value !== 'object' || depth > 8 || seen.has(value)) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v) => scrub(v, depth + 1, seen));
  }
  if (proto !== Object.prototype && proto !== null && depth > 0) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k)
      ? REDACTED
      : URL_KEY.test(k) && typeof v === 'string'
        ? maskSecretsInText(v)
        : scrub(v, depth + 1, seen);
  }
  return out;
}

/**
 * pino's error serializer (type, message, stack, causes, own enumerable fields), then scrubbed: errors
 * from libraries often carry the options they were given (a connection config with its password, a
 * request with its Authorization header), and messages may quote a connection URL.
 */
export function serializeError(err: unknown): unknown {
  const e = pino.stdSerializers.err(err as Error) as SerializedError | unknown;
  if (!e || typeof e !== 'object') return e;
  const out = scrub({ ...(e as Record<string, unknown>) }) as Record<string, unknown>;
  delete out.raw;
  return out;
}

// --- pretty output ---------------------------------------------------------------------------------

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};

/** One JSON line → `12:00:01.234 INFO  [sessions] session state from=connecting to=online`. */
export function prettyLine(json: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const { time, level, msg, c, err, ...rest } = o;
  const [name, tint] = LEVELS[Number(level)] ?? [String(level), ''];
  const paint = (s: string, code: string): string => (color && code ? `${code}${s}\x1b[0m` : s);
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const fields = Object.entries(rest).map(
    ([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`,
  );
  let line = [
    paint(clock, '\x1b[90m'),
    paint(name, tint),
    c ? paint(`[${String(c)}]`, '\x1b[34m') : '',
    String(msg ?? ''),
    ...fields,
  ]
    .filter(Boolean)
    .join(' ');
  const e = err as { type?: string; message?: string; stack?: string } | undefined;
  if (e)
    line += '\n    ' + String(e.stack ?? `${e.type ?? 'Error'}: ${e.message ?? ''}`).replace(/\n/g, '\n    ');
  return line + '\n';
}

/** A pino destination that writes `prettyLine`s (in process: no worker thread, no extra package). */
function prettyDestination(out: NodeJS.WritableStream): { write(chunk: string): boolean } {
  const color = Boolean((out as { isTTY?: boolean }).isTTY) && !process.env.NO_COLOR;
  return { write: (chunk: string) => out.write(prettyLine(chunk.trimEnd(), color)) };
}

// --- the logger ------------------------------------------------------------------------------------

/**
 * One root logger per process, passed down; children name their component (`log.child({ c: 'sse' })`).
 * Every line carries `requestId` when logged during a request, secrets are censored (see REDACT_PATHS
 * and serializeError), and `format: 'pretty'` trades JSON for readable lines.
 */
export function createLogger(level: string, options: LoggerOptions | NodeJS.WritableStream = {}): Log {
  const opts: LoggerOptions =
    'write' in options ? { destination: options as NodeJS.WritableStream } : (options as LoggerOptions);
  const out = opts.destination ?? process.stdout;
  const destination = opts.format === 'pretty' ? prettyDestination(out) : out;
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => {
        const ctx = logContext.getStore();
        return ctx ? { requestId: ctx.requestId } : {};
      },
      redact: { paths: REDACT_PATHS, censor },
      serializers: { err: serializeError, error: serializeError },
    },
    destination as never,
  );
}
