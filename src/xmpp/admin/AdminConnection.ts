import { randomBytes } from 'node:crypto';
import type { Client } from '@xmpp/client';
import xml, { type Element } from '@xmpp/xml';
import type { Log } from '../../log.js';
import { BridgeError } from '../../errors/BridgeError.js';
import { fromStanzaError } from '../../errors/fromStanzaError.js';
import { createXmppClient, Reconnector, smSettled } from '../client/createXmppClient.js';
import { connectError } from '../client/UserSession.js';
import { NS } from '../ns.js';

/**
 * Parley's own long-lived session as the server admin (XMPP_ADMIN_JID): account provisioning
 * (XEP-0133), directory look-ups, and the readiness probe's view of the XMPP server.
 */
export class AdminConnection {
  readonly #x: Client;
  readonly #reconnector: Reconnector;
  #online = false;
  readonly #onOnline: (() => void)[] = [];
  readonly #onOffline: (() => void)[] = [];

  constructor(
    readonly jid: string,
    password: string,
    opts: { service: string; reconnectMaxSeconds: number; allowPlainUnencrypted?: boolean; log: Log },
  ) {
    const [local, domain] = jid.split('@') as [string, string];
    const log = opts.log.child({ c: 'xmpp-admin' });
    this.#x = createXmppClient({
      service: opts.service,
      domain,
      username: local,
      password,
      // Its own resource per gateway: every instance of a cluster (and every gateway of a test run) logs in
      // with the same admin JID, and with one fixed resource each login kicked the other's session
      // (<conflict/>), which reconnected and kicked back — admin requests failed with 503 meanwhile.
      resource: `parley-admin-${randomBytes(4).toString('hex')}`,
      allowPlainUnencrypted: opts.allowPlainUnencrypted,
    });
    this.#reconnector = new Reconnector(this.#x, {
      service: opts.service,
      domain,
      maxSeconds: opts.reconnectMaxSeconds,
      log,
    });
    this.#x.on('error', (err) => log.debug({ err }, 'admin connection error'));
    this.#x.on('online', () => {
      void smSettled(this.#x).then(() => {
        this.#online = true;
        log.info('admin XMPP session online');
        for (const fn of this.#onOnline) fn();
      });
    });
    this.#x.on('disconnect', () => {
      if (this.#online) log.warn('admin XMPP session lost; reconnecting');
      const was = this.#online;
      this.#online = false;
      if (was) for (const fn of this.#onOffline) fn();
    });
  }

  get isOnline(): boolean {
    return this.#online;
  }

  /** Connects once; when the server is down at start-up, keeps retrying in the background instead of failing. */
  async start(): Promise<void> {
    try {
      await this.#x.start();
      await smSettled(this.#x);
      this.#online = true;
    } catch (err) {
      const e = connectError(err);
      if (e.code === 'BAD_CREDENTIALS')
        throw new Error(`XMPP_ADMIN_JID ${this.jid}: the XMPP server rejected its password`, { cause: err });
      this.#reconnector.schedule();
    }
  }

  /**
   * For features that watch through the admin session (groups: its members' presence). `online` runs
   * after every (re)connection once stream management settled, `offline` when an established one drops.
   */
  on(event: 'online' | 'offline', fn: () => void): void {
    (event === 'online' ? this.#onOnline : this.#onOffline).push(fn);
  }

  onStanza(fn: (stanza: Element) => void): void {
    this.#x.on('stanza', fn);
  }

  /** Answers IQ sets of a namespace (e.g. roster pushes), which the client otherwise refuses. */
  onIqSet(ns: string, name: string, handler: (stanza: Element) => Element | boolean): void {
    this.#x.iqCallee.set(ns, name, (ctx: { stanza: Element }) => handler(ctx.stanza));
  }

  async send(stanza: Element): Promise<void> {
    if (!this.#online)
      throw new BridgeError('XMPP_UNAVAILABLE', 'the XMPP server is not reachable', { retryAfter: 5 });
    await this.#x.send(stanza);
  }

  async iq(stanza: Element, timeoutMs = 10_000, what = 'request'): Promise<Element> {
    if (!this.#online)
      throw new BridgeError('XMPP_UNAVAILABLE', 'the XMPP server is not reachable', { retryAfter: 5 });
    try {
      return await this.#x.iqCaller.request(stanza, timeoutMs);
    } catch (err) {
      throw fromStanzaError(err, what);
    }
  }

  async ping(timeoutMs = 3000): Promise<boolean> {
    if (!this.#online) return false;
    try {
      await this.#x.iqCaller.request(
        xml('iq', { type: 'get', to: this.jid.split('@')[1] }, xml('ping', { xmlns: NS.ping })),
        timeoutMs,
      );
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.#reconnector.stop();
    this.#online = false;
    await this.#x.stop().catch(() => undefined);
  }
}
