import type { Element } from '@xmpp/xml';
import type { Log } from '../../log.js';
import { BridgeError } from '../../errors/BridgeError.js';
import { fromStanzaError } from '../../errors/fromStanzaError.js';
import { toStanzaError } from '../../errors/toStanzaError.js';
import { Reconnector } from '../client/createXmppClient.js';
import { NS } from '../ns.js';
import { component, type Component } from './ComponentEntity.js';

/**
 * Shared bootstrap for Parley's external components (XEP-0114: workgroup.<domain>, bbb.<domain>):
 * connect with backoff instead of the library's fixed 1 s loop (which also hammers a server that
 * refuses a wrong secret), TCP_NODELAY, IQ handlers that answer failures through the error table,
 * and an `online` hook to re-announce state after every (re)connect.
 *   https://xmpp.org/extensions/xep-0114.html
 */
export type IqRouteHandler = (iq: {
  from: string;
  to: string;
  id: string;
  stanza: Element;
  element: Element;
}) => Promise<Element | void> | Element | void;

export interface ComponentConnection {
  readonly domain: string;
  readonly isOnline: boolean;
  /** Connects; rejects at once on a wrong secret, otherwise keeps retrying in the background. */
  start(): Promise<void>;
  stop(): Promise<void>;
  send(stanza: Element): Promise<void>;
  iq(stanza: Element, timeoutMs?: number, what?: string): Promise<Element>;
  onIq(type: 'get' | 'set', ns: string, name: string, handler: IqRouteHandler): void;
  /** Every inbound stanza (messages and presence; IQs go to onIq handlers). */
  onStanza(handler: (stanza: Element) => void | Promise<void>): void;
  /** After every (re)connect: re-send presence, rejoin rooms. */
  onOnline(handler: () => void | Promise<void>): void;
}

/** A dead holder's component is taken over within this many seconds (plus the server noticing). */
const STANDBY_RETRY_MAX_SECONDS = 5;

export function createComponent(opts: {
  service: string;
  domain: string;
  secret: string;
  reconnectMaxSeconds: number;
  log: Log;
}): ComponentConnection {
  const log = opts.log.child({ component: opts.domain });
  const x: Component = component({ service: opts.service, domain: opts.domain, password: opts.secret });
  // Prosody accepts one connection per component domain, which makes it the cluster's lock: the other
  // instances keep retrying as standbys, and their retry period is the takeover time when the holder dies.
  const maxSeconds = Math.min(opts.reconnectMaxSeconds, STANDBY_RETRY_MAX_SECONDS);
  const reconnector = new Reconnector(x as never, {
    service: opts.service,
    domain: opts.domain,
    maxSeconds,
    log,
  });
  const onlineHandlers: (() => void | Promise<void>)[] = [];
  let online = false;
  let stopping = false;

  x.on('connect', () => (x.socket as { setNoDelay?(v: boolean): void } | null)?.setNoDelay?.(true));
  x.on('error', (err: unknown) => log.debug({ err }, 'component error'));
  x.on('disconnect', () => {
    if (online && !stopping) log.warn('component connection lost; reconnecting');
    online = false;
  });
  x.on('online', () => {
    online = true;
    log.info('component online');
    void (async () => {
      for (const h of onlineHandlers) {
        try {
          await h();
        } catch (err) {
          log.warn({ err }, 'component online hook failed');
        }
      }
    })();
  });

  const conn: ComponentConnection = {
    domain: opts.domain,
    get isOnline() {
      return online;
    },
    async start() {
      try {
        await x.start();
        // start() resolves when the handshake is sent; `online` follows the server's answer.
        if (!online)
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('component handshake timed out')), 10_000);
            x.once('online', () => {
              clearTimeout(timer);
              resolve();
            });
            x.once('error', (err: unknown) => {
              clearTimeout(timer);
              reject(err);
            });
          });
      } catch (err) {
        const e = err as { condition?: string };
        if (e?.condition === 'not-authorized')
          throw new Error(`component ${opts.domain}: the XMPP server rejected XMPP_COMPONENT_SECRET`, {
            cause: err,
          });
        log.warn({ err }, 'component could not connect; retrying in the background');
        reconnector.schedule();
      }
    },
    async stop() {
      stopping = true;
      reconnector.stop();
      online = false;
      await x.stop().catch(() => undefined);
    },
    async send(stanza) {
      if (!online)
        throw new BridgeError('XMPP_UNAVAILABLE', `component ${opts.domain} is not connected`, {
          retryAfter: 2,
        });
      await x.send(stanza);
    },
    async iq(stanza, timeoutMs = 10_000, what = 'request') {
      if (!online)
        throw new BridgeError('XMPP_UNAVAILABLE', `component ${opts.domain} is not connected`, {
          retryAfter: 2,
        });
      try {
        return await x.iqCaller.request(stanza, timeoutMs);
      } catch (err) {
        throw fromStanzaError(err, what);
      }
    },
    onIq(type, ns, name, handler) {
      x.iqCallee[type](ns, name, async (ctx) => {
        let reply: Element | void;
        try {
          reply = await handler({
            from: String(ctx.stanza.attrs.from),
            to: String(ctx.stanza.attrs.to),
            id: String(ctx.stanza.attrs.id),
            stanza: ctx.stanza,
            // set by @xmpp/iq's callee (the IQ's payload), which its published types leave out
            element: (ctx as typeof ctx & { element: Element }).element,
          });
        } catch (err) {
          if (!(err instanceof BridgeError) || err.status >= 500)
            log.warn({ err, ns, name }, 'component IQ handler failed');
          reply = toStanzaError(err);
        }
        // The callee answers service-unavailable for a falsy reply: `true` is an empty result.
        return reply ? reply : (true as never);
      });
    },
    onStanza(handler) {
      x.on('stanza', (el: Element) => {
        if (el.is('iq')) return;
        void Promise.resolve(handler(el)).catch((err) =>
          log.warn({ err }, 'component stanza handler failed'),
        );
      });
    },
    onOnline(handler) {
      onlineHandlers.push(handler);
    },
  };
  // XEP-0199: answer pings, so monitoring (and a standby's takeover check) can see the component is there.
  conn.onIq('get', NS.ping, 'ping', () => undefined);
  return conn;
}
