import { RateLimiterRes } from 'rate-limiter-flexible';
import { BridgeError } from '../errors/BridgeError.js';
import type { Limiter, LimiterFactory } from '../limits/limiter.js';
import type { CredentialVerifier } from '../sessions/CredentialVerifier.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import type { LoginResult } from '../sessions/sessionManagerTypes.js';
import { claimedUser, CLOCK_SKEW_SECONDS, verifyHostLogin } from './hostToken.js';

/** The throttle's account name for tokens too malformed to name one (they still count against the address). */
const UNNAMED = '(malformed host token)';

/**
 * Logs a host site's user in with a token the site signed (hostToken.ts): no password and no master
 * secret in the page. Each token works once (the replay check is shared by the cluster through the
 * rate-limit store, Redis when configured), and bad tokens back off exactly like wrong passwords
 * (LoginThrottle, per user+address, address and user).
 */
export class HostLogin {
  readonly #used: Limiter;

  constructor(
    private readonly deps: {
      key: string;
      maxLifetimeSeconds: number;
      sessions: Pick<SessionManager, 'login'>;
      limiter: LimiterFactory;
      now?: () => number;
    },
  ) {
    // A token is spent until it could no longer be accepted anyway: its lifetime plus the skew both ways.
    this.#used = deps.limiter('host-login-used', {
      points: 1,
      duration: deps.maxLifetimeSeconds + 2 * CLOCK_SKEW_SECONDS,
    });
  }

  async login(token: string, verifier: Pick<CredentialVerifier, 'throttled'>): Promise<LoginResult> {
    const username = claimedUser(token) ?? UNNAMED;
    const claim = await verifier.throttled(username, async () => {
      const nowSeconds = Math.floor((this.deps.now?.() ?? Date.now()) / 1000);
      const c = verifyHostLogin(this.deps.key, token, nowSeconds, this.deps.maxLifetimeSeconds);
      await this.#spend(c.signature);
      return c;
    });
    return this.deps.sessions.login(claim.username, undefined);
  }

  async #spend(signature: string): Promise<void> {
    try {
      await this.#used.consume(signature);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      throw new BridgeError('BAD_CREDENTIALS', 'this host login token was used already: sign a new one');
    }
  }
}
