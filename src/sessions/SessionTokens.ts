import { hashToken, newToken } from '../crypto/tokens.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import type { SessionStore, TokenOwner } from './SessionStore.js';
import { TokenCache } from './TokenCache.js';

/** A bearer token with its digest, taken once per request (http/middleware/auth.ts). */
export interface TokenCredential {
  token: string;
  hash: Buffer;
}

export interface SessionTokensDeps {
  store: Pick<SessionStore, 'addToken' | 'tokenOwner'>;
  /** whether this instance holds the stream live: only such streams' tokens are kept in memory */
  isLive: (streamId: string) => boolean;
  /** SessionManagerDeps.tokenTtlSeconds */
  ttlSeconds?: number;
  now?: () => number;
}

/** The bearer tokens of the sessions: issued at login, kept hashed in the store, checked on every request. */
export class SessionTokens {
  readonly #cache = new TokenCache();
  readonly #now: () => number;

  constructor(private readonly deps: SessionTokensDeps) {
    this.#now = deps.now ?? Date.now;
  }

  async issue(session: Pick<UserSession, 'streamId' | 'username' | 'touch'>): Promise<string> {
    const credential = SessionTokens.mint();
    await this.deps.store.addToken(session.streamId, credential.hash);
    this.stored(session, credential);
    return credential.token;
  }

  /** A new token, not stored yet: a new session's first one goes into the store with the session's row. */
  static mint(): TokenCredential {
    const token = newToken();
    return { token, hash: hashToken(token) };
  }

  /** `credential` (from mint) is in the store for `session`: it works from now on. */
  stored(session: Pick<UserSession, 'streamId' | 'username' | 'touch'>, credential: TokenCredential): void {
    this.#cache.set(credential.hash, {
      streamId: session.streamId,
      username: session.username,
      ended: false,
      issuedAt: new Date(this.#now()),
    });
    session.touch();
  }

  /**
   * Which stream a bearer token belongs to; undefined for unknown and expired tokens (every route answers
   * both with 401, and the client logs in again for a fresh token). Live local sessions answer from memory.
   */
  async owner(token: string | TokenCredential): Promise<TokenOwner | undefined> {
    const hash = typeof token === 'string' ? hashToken(token) : token.hash;
    const hit = this.#cache.get(hash);
    if (hit && this.#expired(hit)) {
      this.#cache.delete(hash);
      return undefined;
    }
    if (hit) return hit;
    const owner = await this.deps.store.tokenOwner(hash);
    if (owner && this.#expired(owner)) return undefined;
    // Tokens issued before a restart, or by another instance for a session this one now holds.
    if (owner && !owner.ended && this.deps.isLive(owner.streamId)) this.#cache.set(hash, owner);
    return owner;
  }

  /** At the session's end: its tokens then come from the store, which says the session ended. */
  forgetStream(streamId: string): void {
    this.#cache.forgetStream(streamId);
  }

  #expired(owner: TokenOwner): boolean {
    return this.#now() - owner.issuedAt.getTime() >= (this.deps.ttlSeconds ?? 86_400) * 1000;
  }
}
