import { createClient, type RedisClientType } from 'redis';
import type { Log } from '../log.js';
import { backoffDelay } from '../util/backoff.js';

export type RedisClient = RedisClientType;

/** Redis reconnects back off like XMPP ones (1 s, 2 s, 4 s … with jitter), capped low: BBB traffic is live. */
const RECONNECT_MAX_SECONDS = 5;

/**
 * A node-redis client that reconnects forever (the BBB link must come back on its own) and logs instead
 * of crashing on errors (an 'error' event without a listener would kill the process). `failFast` turns off the offline
 * queue: a command issued while Redis is down fails at once (the API answers 503) instead of waiting.
 * Subscriptions are re-issued by node-redis itself after every reconnect.
 */
export function createRedisClient(
  url: string,
  opts: { log: Log; name: string; failFast?: boolean },
): RedisClient {
  const client = createClient({
    url,
    name: opts.name,
    disableOfflineQueue: opts.failFast ?? false,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number) => backoffDelay(retries, RECONNECT_MAX_SECONDS),
    },
  }) as unknown as RedisClient;
  let down = false;
  client.on('error', (err: unknown) => {
    if (!down) opts.log.warn({ err, client: opts.name }, 'redis connection failed; reconnecting');
    down = true;
  });
  client.on('ready', () => {
    if (down) opts.log.info({ client: opts.name }, 'redis connection restored');
    down = false;
  });
  return client;
}

/** Connects in the background: resolves once ready or after `waitMs`, whichever comes first (Redis may be down at start-up). */
export async function connectSoon(client: RedisClient, waitMs: number, log: Log): Promise<void> {
  const connected = client.connect().then(
    () => true,
    (err: unknown) => {
      log.debug({ err }, 'redis connect ended');
      return false;
    },
  );
  const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs).unref());
  if (!(await Promise.race([connected, timer])))
    log.warn('redis is not reachable yet; the BBB link connects in the background');
}

/** Closes without waiting for a server that may be gone. */
export function closeQuietly(client: RedisClient): void {
  try {
    client.destroy();
  } catch {
    /* already closed */
  }
}
