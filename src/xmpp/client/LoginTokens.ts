import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * Parley's login tokens: how the master secret opens a session for an account Parley did not create,
 * without knowing or changing its password (docs/accounts.md). A token is a JWT (HS256) with the claims
 * `{ jid, exp, jti }`, signed with XMPP_LOGIN_TOKEN_SECRET, which the XMPP server shares: Prosody through
 * the project's mod_auth_parley (prosody/modules), ejabberd through `auth_method: [..., jwt]` with the same
 * key as a JWK. It is sent as the SASL PLAIN password, so it travels only where a password may (TLS or
 * loopback, saslPolicy.ts), and a fresh one is minted for every connection attempt: a reconnect an hour
 * later gets its own.
 */

/** Seconds a token stays valid: long enough for a connection under load, short enough to be worthless when
 * copied. Prosody's module refuses tokens valid for more than 300 s; hosts must keep time (NTP). */
export const LOGIN_TOKEN_TTL_SECONDS = 60;

/** Shortest secret accepted: HMAC-SHA256 keys below 256 bits invite guessing offline. */
export const LOGIN_TOKEN_SECRET_MIN = 32;

export class LoginTokens {
  readonly #key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds = LOGIN_TOKEN_TTL_SECONDS,
  ) {
    this.#key = new TextEncoder().encode(secret);
  }

  /** A token for `jid` (bare), valid `ttlSeconds` from `nowMs`; `ttlSeconds` may be negative in tests. */
  mint(jid: string, nowMs = Date.now(), ttlSeconds = this.ttlSeconds): Promise<string> {
    return new SignJWT({ jid })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setJti(randomBytes(12).toString('base64url'))
      .setExpirationTime(Math.floor(nowMs / 1000) + ttlSeconds)
      .sign(this.#key);
  }

  /** The credential a session logs in with: a fresh token for each connection attempt. */
  credentialFor(jid: string): TokenCredential {
    return { token: () => this.mint(jid) };
  }
}

/** A login token source instead of a password (SASL PLAIN only). */
export interface TokenCredential {
  token(): Promise<string>;
}

/** What a c2s connection logs in with: the account's password, or Parley's login token. */
export type XmppSecret = string | TokenCredential;

export const isToken = (s: XmppSecret): s is TokenCredential => typeof s !== 'string';
