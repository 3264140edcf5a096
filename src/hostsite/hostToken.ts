import { createHmac, timingSafeEqual } from 'node:crypto';
import { BridgeError } from '../errors/BridgeError.js';
import { parseUsername } from '../http/params.js';

/**
 * Host-site login tokens (docs/host-site.md): the embedding site signs `<userId>.<expires>` with the key
 * it shares with Parley (PARLEY_HOST_LOGIN_KEY), HMAC-SHA256 in lowercase hex, and hands the page
 * `<userId>.<expires>.<signature>`. `expires` is a Unix time in seconds. The user id may itself contain
 * dots (usernames allow them), so the token is read from the right.
 */
const TOKEN = /^(.{1,64})\.(\d{1,12})\.([0-9a-f]{64})$/i;

/** Clocks of the host site and Parley may disagree by this much either way. */
export const CLOCK_SKEW_SECONDS = 30;

/** The user a token names, read before any check (the login throttle counts failures per user). */
export function claimedUser(token: string): string | undefined {
  return TOKEN.exec(token.trim())?.[1]?.toLowerCase();
}

export function signHostLogin(key: string, userId: string, expires: number): string {
  const message = `${userId}.${expires}`;
  return `${message}.${createHmac('sha256', key).update(message).digest('hex')}`;
}

export interface HostLoginClaim {
  /** the Parley username (the host's user id, lowercased) */
  username: string;
  expires: number;
  /** the signature, which names this token for the replay check */
  signature: string;
}

/**
 * The claim of a well-signed, current token; BAD_CREDENTIALS (401) otherwise. `maxLifetime` bounds how
 * far ahead `expires` may be, so a leaked token is worth minutes, not a day: a host that signs
 * long-lived tokens is refused rather than trusted.
 */
export function verifyHostLogin(
  key: string,
  token: string,
  nowSeconds: number,
  maxLifetime: number,
): HostLoginClaim {
  const m = TOKEN.exec(token.trim());
  if (!m) throw new BridgeError('BAD_CREDENTIALS', 'not a host login token (<userId>.<expires>.<hex HMAC>)');
  const [, userId, exp, signature] = m as unknown as [string, string, string, string];
  const expected = createHmac('sha256', key).update(`${userId}.${exp}`).digest();
  // Constant-time: the comparison must not tell a guesser how many leading bytes were right.
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex')))
    throw new BridgeError('BAD_CREDENTIALS', 'the host login token is not signed with PARLEY_HOST_LOGIN_KEY');
  const expires = Number(exp);
  if (expires < nowSeconds - CLOCK_SKEW_SECONDS)
    throw new BridgeError('BAD_CREDENTIALS', 'the host login token has expired');
  if (expires > nowSeconds + maxLifetime + CLOCK_SKEW_SECONDS)
    throw new BridgeError(
      'BAD_CREDENTIALS',
      `the host login token lives too long: expires may be at most ${maxLifetime} s ahead`,
    );
  return { username: parseUsername(userId), expires, signature: signature.toLowerCase() };
}
