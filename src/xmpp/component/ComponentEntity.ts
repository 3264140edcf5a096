import { createHash } from 'node:crypto';
import { Socket as TcpSocket } from 'node:net';
import Connection from '@xmpp/connection';
import iqCallee, { type IQCallee } from '@xmpp/iq/callee.js';
import iqCaller, { type IQCaller } from '@xmpp/iq/caller.js';
import middleware from '../lazyMiddleware.js';
import xml, { Parser, type Element } from '@xmpp/xml';

/**
 * An external component's stream (XEP-0114) on the @xmpp 0.14 line. npm has no @xmpp/component or
 * @xmpp/component-core beyond 0.13.1, which pulls in a second @xmpp tree (its own Element class among
 * them); this is what those two packages do — a plain TCP stream in `jabber:component:accept`, the
 * SHA-1 handshake, and the middleware/IQ plumbing — built from the 0.14 packages the client uses.
 * No reconnect plugin: createComponent's Reconnector owns retries.
 * References: XEP-0114 §3 (the handshake), RFC 6120 §4 (streams).
 */

class ComponentSocket extends TcpSocket {
  secure = false;
}

/** The parts of @xmpp/connection that are not in its published types but are its subclasses' API. */
interface ConnectionInternals {
  _jid(id: string): void;
  _status(status: string, ...args: unknown[]): void;
}

export class ComponentEntity extends Connection {
  constructor(options: { service: string; domain: string }) {
    super(options);
    this.Socket = ComponentSocket as unknown as Connection['Socket'];
    this.Parser = Parser;
    this.NS = 'jabber:component:accept';
  }

  socketParameters(service: string): { port: number; host: string } | undefined {
    const { port, hostname, protocol } = new URL(service);
    if (protocol !== 'xmpp:') return undefined;
    return { port: port ? Number(port) : 5347, host: hostname === '[::1]' ? '::1' : hostname };
  }

  headerElement(): Element {
    return xml('stream:stream', {
      version: '1.0',
      xmlns: 'jabber:component:accept',
      'xmlns:stream': 'http://etherx.jabber.org/streams',
    });
  }

  override header(el: Element): string {
    return `<?xml version='1.0'?>${el.toString().slice(0, -2)}>`;
  }

  override footer(): string {
    return '</stream:stream>';
  }

  /** Every stanza a component sends must name its sender (XEP-0114 §3); default to the component. */
  override send(el: Element): Promise<void> {
    if (this.isStanza(el) && !el.attrs.from && this.jid) el.attrs.from = this.jid.toString();
    return super.send(el);
  }

  /** XEP-0114 §3: hex SHA-1 of the stream id and the shared secret; a `<handshake/>` back means online. */
  async authenticate(streamId: string, secret: string): Promise<void> {
    const digest = createHash('sha1')
      .update(streamId + secret, 'binary')
      .digest('hex');
    const answer = await this.sendReceive(xml('handshake', {}, digest));
    if (answer.name !== 'handshake') throw new Error('unexpected answer to the component handshake');
    const internals = this as unknown as ConnectionInternals;
    internals._jid(this.options.domain ?? '');
    internals._status('online', this.jid);
  }
}

export interface Component extends ComponentEntity {
  iqCaller: IQCaller<ComponentEntity>;
  iqCallee: IQCallee<ComponentEntity>;
}

export function component(options: { service: string; domain: string; password: string }): Component {
  const entity = new ComponentEntity({ service: options.service, domain: options.domain });
  const mw = middleware({ entity });
  entity.on('open', (el: Element) => {
    entity
      .authenticate(String(el.attrs.id), options.password)
      .catch((err: Error) => entity.emit('error', err));
  });
  return Object.assign(entity, {
    iqCaller: iqCaller({ entity, middleware: mw }),
    iqCallee: iqCallee({ entity, middleware: mw }),
  });
}
