import type { Socket } from 'node:net';
import { Client as ClientCore } from '@xmpp/client-core';
import type { Client } from '@xmpp/client';
import iqCallee from '@xmpp/iq/callee.js';
import iqCaller from '@xmpp/iq/caller.js';
import middleware from '../lazyMiddleware.js';
import resourceBinding from '@xmpp/resource-binding';
import sasl from '@xmpp/sasl';
import saslPlain from '@xmpp/sasl-plain';
import starttls from '@xmpp/starttls';
import streamFeatures from '@xmpp/stream-features';
import streamManagement from '@xmpp/stream-management';
import tcp from '@xmpp/tcp';
import tls from '@xmpp/tls';
import type { Element } from '@xmpp/xml';
import SASLFactory from 'saslmechanisms';
import type { Log } from '../../log.js';
import { pickMechanism, scramSafe } from './saslPolicy.js';
import { ScramSha1 } from './scramSha1.js';
import { isToken, type XmppSecret } from './LoginTokens.js';
import { backoffDelay } from '../../util/backoff.js';
import { NS } from '../ns.js';
import { batchAcks, TCP_KEEPALIVE_MS, type SmKnobs } from './ackPolicy.js';
import { coalesceWrites } from './coalesceWrites.js';

const pong = (): object => ({});

const smOffers = new WeakMap<Client, { offered: boolean; enableSent: boolean; failed: boolean }>();

/**
 * One place that knows how to open a c2s connection the way Parley needs it
 * (each workaround below was verified against Prosody 0.12 + @xmpp/client 0.14, DESIGN.md §5):
 * - `domain` is always passed, else the client derives it from the service address and login fails;
 * - SCRAM-SHA-1 with node:crypto's PBKDF2 off the event loop, cached per password (scramSha1.ts; the
 *   library's JS one costs ~1 s of event-loop CPU per login); PLAIN for login tokens, and only over TLS,
 *   loopback or an explicitly trusted network (saslPolicy.ts);
 * - TCP_NODELAY, else each XEP-0198 round trip waits ~45 ms for Nagle + delayed ACK;
 * - XEP-0198 acks batched and no periodic `<r/>`, TCP keepalive for idle links instead (ackPolicy.ts);
 * - the writes of one event-loop turn leave as one, and `<a/>` answers travel with our next stanza
 *   (coalesceWrites.ts);
 * - reconnecting is the caller's (see Reconnector), with backoff instead of the library's fixed 1 s loop.
 * The client is @xmpp/client's, composed with only what Parley uses (TCP/TLS, STARTTLS, SASL PLAIN and
 * SCRAM-SHA-1, bind, XEP-0198, IQ): without SASL2, FAST, bind2, WebSocket, SRV resolution and the
 * library's reconnect, every session holds ~30 fewer closures and their objects (10,000 sessions is the goal).
 */
export interface XmppClientOptions {
  service: string;
  domain: string;
  username: string;
  /** the account's password, or Parley's login token (minted afresh for each connection; PLAIN only) */
  password: XmppSecret;
  resource?: string;
  /** XMPP_ALLOW_PLAIN_UNENCRYPTED: SASL PLAIN without TLS to a server off this host (trusted network only) */
  allowPlainUnencrypted?: boolean;
}

export function createXmppClient(opts: XmppClientOptions): Client {
  const entity = new ClientCore({ service: opts.service, domain: opts.domain });
  tcp({ entity });
  tls({ entity });
  const mw = middleware({ entity });
  const features = streamFeatures({ middleware: mw });
  // Stream management counts what it receives in its middleware ('h'), so it must come before the IQ
  // handlers: the caller keeps the results it awaits (roster, carbons, archive, pings) and the callee the
  // requests it answers, neither passing them on. Counted after them, 'h' fell short by every IQ the
  // session ever received: the server kept those stanzas queued for good (up to its queue's size), asked
  // for an ack after every stanza once more than its threshold were unacknowledged, and would resend them
  // on a resumption.
  const sm = streamManagement({ streamFeatures: features, entity, middleware: mw });
  const caller = iqCaller({ middleware: mw, entity });
  const callee = iqCallee({ middleware: mw, entity });
  const factory = new SASLFactory();
  factory.use(ScramSha1.mechanismName, ScramSha1 as never);
  saslPlain(factory);
  starttls({ streamFeatures: features });
  // The library calls back with (credentials, mechanism); its type declarations know only the first.
  sasl({ streamFeatures: features, saslFactory: factory }, (async (
    done: (creds: object, mechanism: string) => Promise<void>,
    mechanisms: string[],
  ) => {
    const secret = opts.password;
    const mechanism = pickMechanism(
      mechanisms,
      {
        secure: entity.isSecure(),
        remoteAddress: (entity as unknown as { socket?: { remoteAddress?: string } }).socket?.remoteAddress,
      },
      opts.allowPlainUnencrypted,
      isToken(secret),
      !isToken(secret) && scramSafe(secret),
    );
    const password = isToken(secret) ? await secret.token() : secret;
    return done({ username: opts.username, password }, mechanism);
  }) as never);
  const ackBatch = batchAcks(entity as never, sm as unknown as SmKnobs);
  coalesceWrites(entity as never, sm as unknown as { inbound: number });
  resourceBinding({ iqCaller: caller, streamFeatures: features }, opts.resource);
  callee.get(NS.ping, 'ping', pong);
  const x = Object.assign(entity, {
    entity,
    middleware: mw,
    streamFeatures: features,
    iqCaller: caller,
    iqCallee: callee,
    saslFactory: factory,
    streamManagement: sm,
    ackBatch,
  }) as unknown as Client;
  x.on('element', noteSmOffer);
  x.on('send', noteSmEnable);
  x.on('connect', tuneSocket);
  x.on('open', releaseFirstChunk);
  return x;
}

// The listeners below are shared by every client (a listener's `this` is its emitter): per-client closures
// were a good part of what each of 10,000 sessions held (bench/JOURNAL.md, "Memory at 10,000 sessions").

/**
 * Remembers, per stream, whether the server offered XEP-0198 and whether <enable/> failed (smSettled).
 * A <failed/> that answers a <resume/> attempt (after a reconnect) does not count: <enable/> follows it.
 */
function noteSmOffer(this: Client, el: Element): void {
  if (el.is('features', 'http://etherx.jabber.org/streams') && el.getChild('bind', NS.bind)) {
    smOffers.set(this, { offered: !!el.getChild('sm', NS.sm), enableSent: false, failed: false });
  } else if (el.is('failed', NS.sm)) {
    const st = smOffers.get(this);
    if (st?.enableSent) st.failed = true;
  }
}

function noteSmEnable(this: Client, el: Element): void {
  const st = smOffers.get(this);
  if (st && el.is('enable', NS.sm)) st.enableSent = true;
}

function tuneSocket(this: Client): void {
  // xmpp:// gives a net.Socket; xmpps:// (@xmpp/tls) a wrapper holding the TLSSocket as `.socket`.
  type Tunable = Partial<Pick<Socket, 'setNoDelay' | 'setKeepAlive'>> & { socket?: Tunable };
  const outer = (this as unknown as { socket?: Tunable }).socket;
  const socket = outer?.setKeepAlive ? outer : outer?.socket;
  socket?.setNoDelay?.(true);
  socket?.setKeepAlive?.(true, TCP_KEEPALIVE_MS);
}

/**
 * The server's stream header stays referenced for the whole connection (as the parser's root), and its
 * name and longer attribute values are V8 slices of the first chunk the server sent: the header and the
 * stream features, ~700 bytes kept alive per session (10,000 sessions is the goal). Copies hold nothing else.
 */
function releaseFirstChunk(this: unknown, header: Element): void {
  const own = (s: string): string => Buffer.from(s).toString();
  header.name = own(header.name);
  for (const [k, v] of Object.entries(header.attrs)) if (typeof v === 'string') header.attrs[k] = own(v);
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
  const pending = () => {
    const st = smOffers.get(x);
    return !!sm && !!st?.offered && !st.failed && !sm.enabled;
  };
  while (pending() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2));
  }
}

const reconnectors = new WeakMap<object, Reconnector>();
function scheduleReconnect(this: object): void {
  reconnectors.get(this)?.schedule();
}
function resetReconnect(this: object): void {
  reconnectors.get(this)?.reset();
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

  constructor(
    private readonly x: Client,
    private readonly opts: { service: string; domain: string; maxSeconds: number; log: Log },
  ) {
    reconnectors.set(x, this);
    x.on('disconnect', scheduleReconnect);
    x.on('online', resetReconnect);
  }

  /** The client came online: the next outage starts the backoff from the beginning. */
  reset(): void {
    this.#attempt = 0;
  }

  schedule(): void {
    if (this.#stopped || this.#timer || this.#busy) return;
    const delay = backoffDelay(this.#attempt++, this.opts.maxSeconds);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#tryOnce();
    }, delay);
    this.#timer.unref?.();
  }

  async #tryOnce(): Promise<void> {
    if (this.#stopped || (this.x.status as string) === 'online') return;
    this.#busy = true;
    try {
      await connectOnce(this.x, this.opts, 15_000);
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

/**
 * One connection attempt: socket, stream header, then `online` (SASL, bind, SM) or a failure, within `ms`.
 * Not @xmpp/connection's start(): it creates its `online` promise before awaiting open(), and when open()
 * times out that promise is left behind and rejects, unhandled, on the socket's later error (seen with
 * 300 concurrent logins). The library's 2 s for each stream header answer (`x.timeout`, used again after
 * SASL) is also too short for a server answering hundreds of logins at once: the attempt's budget applies.
 */
export async function connectOnce(
  x: Client,
  target: { service: string; domain: string },
  ms: number,
): Promise<void> {
  const settled = onlineOrFailure(x, ms);
  settled.catch(() => undefined); // awaited below, unless connect/open fails first
  const previous = x.timeout;
  x.timeout = ms;
  try {
    const opened = (async () => {
      await x.connect(target.service);
      await x.open({ domain: target.domain });
    })();
    opened.catch(() => undefined); // raced below: when `settled` fails first, this one must not go unhandled
    await Promise.race([opened, settled]);
    await settled;
  } finally {
    x.timeout = previous;
  }
}

/** Resolves on `online`, rejects on `disconnect`/`error` or after `ms` (stream features run after open()). */
function onlineOrFailure(x: Client, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown) => {
      clearTimeout(timer);
      x.removeListener('online', onOnline);
      x.removeListener('disconnect', onFail);
      x.removeListener('error', onFail);
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve();
    };
    const onOnline = () => done();
    // `disconnect` carries { clean, reason }: the socket's error when there was one (it has the code).
    const onFail = (e: unknown) =>
      done(
        e instanceof Error
          ? e
          : ((e as { reason?: unknown })?.reason ?? new Error('disconnected before the session came online')),
      );
    const timer = setTimeout(() => done(new Error('timed out waiting for the session to come online')), ms);
    x.on('online', onOnline);
    x.on('disconnect', onFail);
    x.on('error', onFail);
  });
}
