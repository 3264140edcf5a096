import { createHmac, randomBytes } from 'node:crypto';
import { createXmppClient } from '../xmpp/client/createXmppClient.js';
import { connectError } from '../xmpp/client/UserSession.js';
import { BridgeError } from '../errors/BridgeError.js';
import { currentClientIp } from '../limits/clientIp.js';
import type { LoginThrottle } from './LoginThrottle.js';

/**
 * Checks a user's password against the XMPP server (a short SASL-only connection) for Basic auth and
 * for a second login that reuses a live session. Successes are remembered briefly as a keyed digest,
 * so a page of calls with Basic auth costs one SASL round, and no password is kept in memory.
 */
export class CredentialVerifier {
  readonly #key = randomBytes(32);
  readonly #ok = new Map<string, { digest: string; until: number }>();

  constructor(
    private readonly opts: {
      service: string;
      domain: string;
      ttlMs?: number;
      allowPlainUnencrypted?: boolean;
      throttle?: LoginThrottle;
    },
  ) {}

  /**
   * Runs a password check that costs an XMPP connection under the throttle (429 while the user or the
   * address backs off). `ip` defaults to the current request's client address.
   */
  throttled<T>(username: string, check: () => Promise<T>, ip = currentClientIp()): Promise<T> {
    return this.opts.throttle ? this.opts.throttle.run(username, ip, check) : check();
  }

  digest(username: string, password: string): string {
    return createHmac('sha256', this.#key).update(`${username}\0${password}`).digest('base64url');
  }

  /** Remember a password the server just accepted (a successful session login). */
  remember(username: string, password: string): void {
    this.#ok.set(username, {
      digest: this.digest(username, password),
      until: Date.now() + (this.opts.ttlMs ?? 300_000),
    });
  }

  forget(username: string): void {
    this.#ok.delete(username);
  }

  /**
   * true / false for the credentials; throws 503 when the server cannot be asked, 429 while backing off.
   * A password proven recently (the cache) is never held back: a user's own sessions keep working while
   * someone else guesses at the account.
   */
  async verify(username: string, password: string, ip = currentClientIp()): Promise<boolean> {
    const hit = this.#ok.get(username);
    if (hit && hit.until > Date.now() && hit.digest === this.digest(username, password)) return true;
    try {
      await this.throttled(username, () => this.#sasl(username, password), ip);
      return true;
    } catch (err) {
      if (err instanceof BridgeError && err.code === 'BAD_CREDENTIALS') return false;
      throw err;
    }
  }

  /** A SASL-only connection; throws BAD_CREDENTIALS for a wrong password. */
  async #sasl(username: string, password: string): Promise<void> {
    const x = createXmppClient({
      service: this.opts.service,
      domain: this.opts.domain,
      username,
      password,
      resource: `parley-check-${randomBytes(4).toString('hex')}`,
      allowPlainUnencrypted: this.opts.allowPlainUnencrypted,
    });
    x.on('error', () => undefined);
    try {
      await x.start();
    } catch (err) {
      await x.stop().catch(() => undefined);
      throw connectError(err);
    }
    await x.stop().catch(() => undefined);
    this.remember(username, password);
  }
}
