import { createHmac, randomBytes } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { Client } from '@xmpp/client';
import { createXmppClient, smSettled } from '../xmpp/client/createXmppClient.js';
import { NS } from '../xmpp/ns.js';
import { connectError } from '../xmpp/client/UserSession.js';
import { BridgeError } from '../errors/BridgeError.js';
import { currentClientIp } from '../limits/clientIp.js';
import type { LoginThrottle } from './LoginThrottle.js';

/** What Basic credentials are: wrong, a user's, or an XMPP server admin's (adminStatus). */
export type BasicStanding = 'bad' | 'user' | 'admin';

/**
 * Checks a user's password against the XMPP server (a short SASL-only connection) for Basic auth and
 * for a second login that reuses a live session. Successes are remembered briefly as a keyed digest,
 * so a page of calls with Basic auth costs one SASL round, and no password is kept in memory.
 * Whether the user is an XMPP server admin (ofchat's admin Basic credentials, docs/accounts.md) is the
 * server's own answer, asked on that same connection and remembered with the password.
 */
export class CredentialVerifier {
  readonly #key = randomBytes(32);
  readonly #ok = new Map<string, { digest: string; until: number; admin?: boolean }>();

  constructor(
    private readonly opts: {
      service: string;
      domain: string;
      ttlMs?: number;
      allowPlainUnencrypted?: boolean;
      throttle?: LoginThrottle;
      /** PARLEY_ADMIN_BASIC: false, and nobody's Basic credentials count as an admin's */
      adminBasic?: boolean;
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
  remember(username: string, password: string, admin?: boolean): void {
    this.#ok.set(username, {
      digest: this.digest(username, password),
      until: Date.now() + (this.opts.ttlMs ?? 300_000),
      admin,
    });
  }

  /**
   * Basic credentials of someone acting for another user: 'admin' only for an XMPP server admin (and with
   * PARLEY_ADMIN_BASIC on), 'user' for anyone else whose password is right, 'bad' for a wrong password.
   */
  async adminStatus(username: string, password: string, ip = currentClientIp()): Promise<BasicStanding> {
    const hit = this.#hit(username, password);
    if (hit && (hit.admin !== undefined || this.opts.adminBasic === false))
      return hit.admin ? 'admin' : 'user';
    if (this.opts.adminBasic === false) return (await this.verify(username, password, ip)) ? 'user' : 'bad';
    try {
      const admin = await this.throttled(username, () => this.#sasl(username, password, true), ip);
      return admin ? 'admin' : 'user';
    } catch (err) {
      if (err instanceof BridgeError && err.code === 'BAD_CREDENTIALS') return 'bad';
      throw err;
    }
  }

  #hit(username: string, password: string): { admin?: boolean } | undefined {
    const hit = this.#ok.get(username);
    return hit && hit.until > Date.now() && hit.digest === this.digest(username, password) ? hit : undefined;
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
    if (this.#hit(username, password)) return true;
    try {
      await this.throttled(username, () => this.#sasl(username, password, false), ip);
      return true;
    } catch (err) {
      if (err instanceof BridgeError && err.code === 'BAD_CREDENTIALS') return false;
      throw err;
    }
  }

  /**
   * A SASL-only connection; throws BAD_CREDENTIALS for a wrong password. With `askAdmin`, also asks the
   * server whether the user is an admin, and resolves with the answer.
   */
  async #sasl(username: string, password: string, askAdmin: boolean): Promise<boolean | undefined> {
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
    let admin: boolean | undefined;
    try {
      if (askAdmin) admin = await this.#isAdmin(x);
    } finally {
      await x.stop().catch(() => undefined);
    }
    this.remember(username, password, admin);
    return admin;
  }

  /**
   * The server lists its XEP-0133 admin commands (XEP-0050 command list) only to its admins: Prosody's
   * mod_adhoc and ejabberd's mod_configure alike. Any error answer means "not an admin".
   */
  async #isAdmin(x: Client): Promise<boolean> {
    try {
      await smSettled(x); // XEP-0198 race: nothing may be sent before <enabled/> (createXmppClient.ts)
      const r = await x.iqCaller.request(
        xml(
          'iq',
          { type: 'get', to: this.opts.domain },
          xml('query', { xmlns: NS.discoItems, node: NS.commands }),
        ),
        5000,
      );
      const items = r.getChild('query', NS.discoItems)?.getChildren('item') ?? [];
      return items.some((i: Element) => String(i.attrs.node ?? '').startsWith(`${NS.adminForm}#`));
    } catch {
      return false;
    }
  }
}
