import { client, type Client } from '@xmpp/client';
import xml, { type Element } from '@xmpp/xml';
import { rig } from '../rig/rig.js';
import { rawSocket } from './xmppLink.js';

/**
 * A native XMPP client that is not Parley (plain @xmpp/client), for proving interop:
 * what it sees is what any other XMPP client on the server would see.
 */
export class XmppPeer {
  readonly stanzas: Element[] = [];
  readonly #waiters: { match: (s: Element) => boolean; resolve: (s: Element) => void }[] = [];
  private constructor(
    readonly x: Client,
    readonly jid: string,
  ) {
    x.on('stanza', (s) => {
      this.stanzas.push(s);
      for (const w of [...this.#waiters])
        if (w.match(s)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(s);
        }
    });
  }

  static async connect(username: string, password: string, resource = 'peer'): Promise<XmppPeer> {
    const x = client({
      service: rig.xmpp.service,
      domain: rig.xmpp.domain,
      resource,
      credentials: ((auth: (c: object, m: string) => Promise<void>, mechanisms: string[]) =>
        auth({ username, password }, mechanisms.includes('PLAIN') ? 'PLAIN' : mechanisms[0]!)) as never,
    });
    x.reconnect.stop();
    x.on('error', () => undefined);
    x.on('connect', () => rawSocket(x)?.setNoDelay(true));
    await x.start();
    // The rig's Prosody offers XEP-0198; sending before <enabled/> trips @xmpp/client 0.14's ack counter.
    const sm = (x as unknown as { streamManagement: { enabled: boolean } }).streamManagement;
    for (let i = 0; i < 2500 && !sm.enabled; i++) await new Promise((r) => setTimeout(r, 2));
    const peer = new XmppPeer(x, `${username}@${rig.xmpp.domain}/${resource}`);
    await x.send(xml('presence'));
    return peer;
  }

  next(match: (s: Element) => boolean, timeoutMs = 10_000): Promise<Element> {
    const seen = this.stanzas.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching stanza in time')), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
      });
    });
  }

  /** XEP-0199 ping to a full JID: true if that resource is online. */
  async ping(to: string): Promise<boolean> {
    try {
      await this.x.iqCaller.request(
        xml('iq', { type: 'get', to }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
        5000,
      );
      return true;
    } catch {
      return false;
    }
  }

  send(el: Element): Promise<void> {
    return this.x.send(el);
  }
  async stop(): Promise<void> {
    await this.x.stop().catch(() => undefined);
  }
}
