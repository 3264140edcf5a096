import { client, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import type { Log } from '../../log.js';

const SM_NS = 'urn:xmpp:sm:3';
const smOffers = new WeakMap<Client, { offered: boolean; enableSent: boolean; failed: boolean }>();

/**
 * One place that knows how to open a c2s connection the way Parley needs it
 * (each workaround below was verified against Prosody 0.12 + @xmpp/client 0.14, DESIGN.md §5):
 * - `domain` is always passed, else the client derives it from the service address and login fails;
 * - PLAIN is chosen when the server offers it: the JS SCRAM costs ~1 s of event-loop CPU per login,
 *   PLAIN ~2 ms. The gateway holds the password anyway; use TLS (xmpps:// or STARTTLS) off loopback;
 * - TCP_NODELAY, else each XEP-0198 round trip waits ~45 ms for Nagle + delayed ACK;
 * - the library's fixed 1 s reconnect loop is replaced by the caller's backoff (see Reconnector).
 */
export interface XmppClientOptions {
  service: string; domain: string; username: string; password: string; resource?: string;
}

export function createXmppClient(opts: XmppClientOptions): Client {
  const x = client({
    service: opts.service,
    domain: opts.domain,
    resource: opts.resource,
    credentials: ((authenticate: (creds: object, mechanism: string) => Promise<void>, mechanisms: string[]) =>
      authenticate({ username: opts.username, password: opts.password },
        mechanisms.includes('PLAIN') ? 'PLAIN' : mechanisms[0]!)) as never,
  });
  x.reconnect.stop();
  // Remember, per stream, whether the server offered XEP-0198 and whether <enable/> failed (smSettled).
  // A <failed/> that answers a <resume/> attempt (after a reconnect) does not count: <enable/> follows it.
  x.on('element', (el: Element) => {
    if (el.is('features', 'http://etherx.jabber.org/streams') && el.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind')) {
      smOffers.set(x, { offered: !!el.getChild('sm', SM_NS), enableSent: false, failed: false });
    } else if (el.is('failed', SM_NS)) {
      const st = smOffers.get(x);
      if (st?.enableSent) st.failed = true;
    }
  });
  x.on('send', (el: Element) => {
    const st = smOffers.get(x);
    if (st && el.is('enable', SM_NS)) st.enableSent = true;
  });
  x.on('connect', () => {
    (x as unknown as { socket?: { setNoDelay?: (v: boolean) => void } }).socket?.setNoDelay?.(true);
  });
  return x;
}

/**
 * XEP-0198 race in @xmpp/client 0.14: `online` fires before `<enabled/>` is processed, and the
 * inbound counter is reset after stanzas were already counted, so Prosody kills the stream.
 * Sending nothing until SM is settled (enabled, or refused) avoids it.
 */
export async function smSettled(x: Client, timeoutMs = 5000): Promise<void> {
  const sm = (x as unknown as { streamManagement?: { enabled: boolean } }).streamManagement;
  const deadline = Date.now() + timeoutMs;
  // `online` can fire before <enable/> is even sent, so wait on what the server offered, not on enableSent.
  const pending = () => { const st = smOffers.get(x); return !!sm && !!st?.offered && !st.failed && !sm.enabled; };
  while (pending() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Exponential backoff with full jitter, capped: 1 s, 2 s, 4 s … max. */
export function backoffDelay(attempt: number, maxSeconds: number, random = Math.random): number {
  const ceiling = Math.min(maxSeconds * 1000, 1000 * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Reconnects a client after an unexpected disconnect, with backoff, until stopped.
 * `onAttempt` lets the owner report `reconnecting`; success shows up as the client's own `online`.
 */
export class Reconnector {
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #busy = false;

  constructor(private readonly x: Client, private readonly opts: { service: string; domain: string; maxSeconds: number; log: Log }) {
    x.on('disconnect', () => this.schedule());
    x.on('online', () => { this.#attempt = 0; });
  }

  schedule(): void {
    if (this.#stopped || this.#timer || this.#busy) return;
    const delay = backoffDelay(this.#attempt++, this.opts.maxSeconds);
    this.#timer = setTimeout(() => { this.#timer = undefined; void this.#tryOnce(); }, delay);
    this.#timer.unref?.();
  }

  async #tryOnce(): Promise<void> {
    if (this.#stopped || (this.x.status as string) === 'online') return;
    this.#busy = true;
    try {
      const settled = onlineOrFailure(this.x, 15_000);
      settled.catch(() => undefined); // awaited below; avoids an unhandled rejection if connect() throws first
      await this.x.connect(this.opts.service);
      await this.x.open({ domain: this.opts.domain });
      await settled;
    } catch (err) {
      this.opts.log.debug({ err, attempt: this.#attempt }, 'reconnect attempt failed');
      // A failed connect may or may not have emitted `disconnect`; make sure the socket is down.
      await this.x.disconnect().catch(() => undefined);
    } finally {
      this.#busy = false;
    }
    if ((this.x.status as string) !== 'online' && !this.#stopped) this.schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Resolves on `online`, rejects on `disconnect`/`error` or after `ms` (stream features run after open()). */
function onlineOrFailure(x: Client, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown) => {
      clearTimeout(timer);
      x.removeListener('online', onOnline); x.removeListener('disconnect', onFail); x.removeListener('error', onFail);
      if (err) reject(err instanceof Error ? err : new Error(String(err))); else resolve();
    };
    const onOnline = () => done();
    const onFail = (e: unknown) => done(e ?? new Error('disconnected'));
    const timer = setTimeout(() => done(new Error('timed out waiting for the session to come online')), ms);
    x.on('online', onOnline); x.on('disconnect', onFail); x.on('error', onFail);
  });
}
