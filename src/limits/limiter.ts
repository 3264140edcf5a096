import { createHash } from 'node:crypto';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { BridgeError } from '../errors/BridgeError.js';
import type { ErrorCode } from '../errors/codes.js';
import type { RedisClient } from '../redis/createRedis.js';
import { REDIS_KEYS } from '../redis/keys.js';

export type { RateLimiterAbstract as Limiter } from 'rate-limiter-flexible';

/** `points` hits per `duration` seconds; `name` keeps one limiter's keys apart from another's. */
export type LimiterFactory = (
  name: string,
  opts: { points: number; duration: number },
) => RateLimiterAbstract;

/**
 * Counters come from rate-limiter-flexible: atomic in Redis when REDIS_URL is set, so every instance of a
 * cluster counts the same hits, with an in-memory limiter standing in while Redis is away (a Redis outage
 * must not open the gates nor fail the requests). Without Redis, each instance counts on its own.
 * `deployment` separates gateways that share one Redis but not one database (each test's gateway).
 */
export function limiterFactory(redis: RedisClient | undefined, deployment: string): LimiterFactory {
  const scope = createHash('sha256').update(deployment).digest('base64url').slice(0, 12);
  return (name, opts) => {
    const memory = new RateLimiterMemory({ keyPrefix: name, ...opts });
    if (!redis) return memory;
    return new RateLimiterRedis({
      storeClient: redis,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
      keyPrefix: REDIS_KEYS.limit(scope, name),
      ...opts,
    });
  };
}

export const memoryLimiters: LimiterFactory = (name, opts) =>
  new RateLimiterMemory({ keyPrefix: name, ...opts });

export const retryAfterSeconds = (res: RateLimiterRes): number =>
  Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/** Counts one hit; over the limit, a 429 (`code`) with Retry-After. */
export async function take(
  limiter: RateLimiterAbstract,
  key: string,
  code: ErrorCode,
  detail: string,
): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    const retryAfter = retryAfterSeconds(err);
    throw new BridgeError(code, `${detail}; retry in ${retryAfter} s`, { retryAfter });
  }
}
