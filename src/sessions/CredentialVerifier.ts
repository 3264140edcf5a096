import { createHmac, randomBytes } from 'node:crypto';
import { createXmppClient } from '../xmpp/client/createXmppClient.js';
import { connectError } from '../xmpp/client/UserSession.js';

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
    },
  ) {}

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

  /** true / false for the credentials; throws 503 when the server cannot be asked. */
  async verify(username: string, password: string): Promise<boolean> {
    const hit = this.#ok.get(username);
    if (hit && hit.until > Date.now() && hit.digest === this.digest(username, password)) return true;
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
      const e = connectError(err);
      if (e.code === 'BAD_CREDENTIALS') return false;
      throw e;
    }
    await x.stop().catch(() => undefined);
    this.remember(username, password);
    return true;
  }
}
