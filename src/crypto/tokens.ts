import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256-bit random token, URL-safe so it fits `?token=` on the SSE URL. */
export const newToken = (): string => randomBytes(32).toString('base64url');

/** Tokens are high-entropy, so one SHA-256 (no salt, no stretching) is enough to make a stolen table useless. */
export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Constant-time string equality: compare fixed-length digests so length leaks nothing either. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(hashToken(a), hashToken(b));
}

export const randomId = (prefix: string, bytes = 12): string =>
  prefix + randomBytes(bytes).toString('base64url');
