import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Client } from '@xmpp/client';
import xml, { type Element } from '@xmpp/xml';
import { outsideLogContext, type Log } from '../../log.js';
import type { XmppMetrics } from '../../metrics/Metrics.js';
import { BridgeError } from '../../errors/BridgeError.js';
import { fromStanzaError } from '../../errors/fromStanzaError.js';
import { connectOnce, createXmppClient, Reconnector, smSettled } from './createXmppClient.js';
import type { OutboundBudget } from './OutboundBudget.js';
import { SessionBacklog, type BacklogClient } from './SessionBacklog.js';
import type { XmppSecret } from './LoginTokens.js';

/** A login's connect, stream, SASL and bind: a server busy with hundreds of logins takes seconds. */
const START_TIMEOUT_MS = 10_000;

export type SessionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface UserSessionEvents {
  state: [state: SessionState, previous: SessionState];
  stanza: [stanza: Element];
  /** after every (re)established XMPP session, once initial presence went out: rejoin rooms, catch up. */
  ready: [resumed: boolean];
  /** the session is over and its last event was published: streams bound to it close. */
  ended: [];
}

export interface UserSessionOptions {
  streamId: string;
  username: string;
  /** the account's password, or Parley's login token source (master-secret logins, LoginTokens.ts) */
  password: XmppSecret;
  service: string;
  domain: string;
  reconnectMaxSeconds: number;
  /** XMPP_ALLOW_PLAIN_UNENCRYPTED (see saslPolicy.ts) */
  allowPlainUnencrypted?: boolean;
  log: Log;
  /** counts messages in/out and reconnects; optional so tests can leave it out */
  metrics?: XmppMetrics;
  /** the instance's backpressure ledger (shared by its sessions); none: sends are never refused for load */
  outbound?: OutboundBudget;
}

/** the session each client (and its XEP-0198 state) belongs to, for the shared listeners */
const sessionOf = new WeakMap<object, UserSession>();

/**
 * One user's c2s session, shared by every tab and SSE stream of that user on this instance.
 * Resource is `parley-<random>`; it survives reconnects (XEP-0198 resumption where possible).
 */
export class UserSession extends EventEmitter<UserSessionEvents> {
  readonly streamId: string;
  readonly username: string;
  readonly bareJid: string;
  readonly resource = `parley-${randomBytes(6).toString('hex')}`;
  state: SessionState = 'connecting';
  lastActivity = Date.now();
  openStreams = 0;
  readonly #x: Client;
  readonly #reconnector: Reconnector;
  readonly #log: Log;
  #stopping = false;
  /** this session's part in the instance's backpressure; none without a budget */
  readonly #backlog: SessionBacklog | undefined;
  /** the account's other online resources, from the presence the server forwards between them */
  #ownResources: Set<string> | undefined; // made at the first one seen: most accounts have none

  constructor(readonly opts: UserSessionOptions) {
    super();
    // Each open event stream of the user waits on 'ended' (bounded by PARLEY_SSE_MAX_STREAMS_PER_USER),
    // plus the features' own listeners: Node's default warning at 10 would fire at the stream cap.
    this.setMaxListeners(0);
    this.streamId = opts.streamId;
    this.username = opts.username;
    this.bareJid = `${opts.username}@${opts.domain}`;
    this.#log = opts.log.child({ streamId: opts.streamId, user: opts.username });
    this.#x = createXmppClient({
      service: opts.service,
      domain: opts.domain,
      username: opts.username,
      password: opts.password,
      resource: this.resource,
      allowPlainUnencrypted: opts.allowPlainUnencrypted,
    });
    this.#reconnector = new Reconnector(this.#x, {
      service: opts.service,
      domain: opts.domain,
      maxSeconds: opts.reconnectMaxSeconds,
      log: this.#log,
    });
    sessionOf.set(this.#x, this);
    this.#x.on('error', UserSession.#onError);
    this.#x.on('stanza', UserSession.#onStanza);
    this.#x.on('disconnect', UserSession.#onDisconnect);
    this.#x.on('online', UserSession.#onOnline);
    this.#backlog = opts.outbound && new SessionBacklog(this.#x as unknown as BacklogClient, opts.outbound);
    const sm = (this.#x as unknown as BacklogClient).streamManagement;
    if (sm) {
      sessionOf.set(sm, this);
      sm.on('resumed', UserSession.#onResumed);
    }
  }

  // One listener of each kind for every session's client (a listener's `this` is its emitter) instead of a
  // closure per session and event: 10,000 sessions is the goal (bench/JOURNAL.md, "Memory at 10,000 sessions").
  static #onError(this: object, err: unknown): void {
    const s = sessionOf.get(this);
    if (s) s.#log.debug({ err }, 'xmpp client error');
  }
  static #onStanza(this: object, el: Element): void {
    const s = sessionOf.get(this);
    if (!s) return;
    if (el.is('message')) s.opts.metrics?.message('in', el.attrs.type as string | undefined);
    else if (el.is('presence')) s.#trackOwnResource(el);
    s.emit('stanza', el);
  }
  static #onDisconnect(this: object): void {
    const s = sessionOf.get(this);
    if (s && !s.#stopping) s.#setState('reconnecting');
  }
  static #onOnline(this: object): void {
    const s = sessionOf.get(this);
    if (!s) return;
    // A new XMPP session: the server sends the other resources' presence again after ours.
    s.#ownResources?.clear();
    void s.#becameOnline(false);
  }
  static #onResumed(this: object): void {
    const s = sessionOf.get(this);
    if (s) void s.#becameOnline(true);
  }

  /**
   * The session a client belongs to: handlers registered on a client (its iqCallee's) find their session
   * here, so one handler serves every session instead of a closure per session.
   */
  static ofClient(client: object): UserSession | undefined {
    return sessionOf.get(client);
  }

  /** Whether another client (a phone app, a second gateway instance) is online on this account. */
  get otherResourcesOnline(): boolean {
    return !!this.#ownResources?.size;
  }

  #trackOwnResource(el: Element): void {
    const from = String(el.attrs.from ?? '');
    const slash = from.indexOf('/');
    if (slash < 0 || from.slice(0, slash).toLowerCase() !== this.bareJid.toLowerCase()) return;
    const resource = from.slice(slash + 1);
    if (resource === this.resource) return;
    const type = el.attrs.type as string | undefined;
    if (type === undefined) (this.#ownResources ??= new Set()).add(resource);
    else if (type === 'unavailable' || type === 'error') this.#ownResources?.delete(resource);
  }

  /**
   * Admits one message before anything it carries is stored: 503 while reconnecting, 429/503
   * (SEND_QUEUE_FULL, XMPP_BACKLOG) while this session or the instance is behind (SessionBacklog.admit).
   * Call the returned release once the stanza was handed over, or the send failed.
   */
  admitSend(): () => void {
    if (!this.isOnline)
      throw new BridgeError('XMPP_UNAVAILABLE', 'the XMPP session is reconnecting; try again shortly', {
        retryAfter: 2,
      });
    return this.#backlog?.admit() ?? (() => undefined);
  }

  /** Throws what admitSend would while this session or the instance is behind, taking no place. */
  refuseIfBehind(): void {
    this.#backlog?.check();
  }

  readonly #beforePresence: ((session: UserSession) => Promise<unknown>)[] = [];

  /**
   * Work between a (re)established connection and the initial presence, every time a session is not
   * resumed: RFC 6121 §2.2 — fetch the roster first, so the server counts this resource as interested and
   * sends it pending subscription requests and roster pushes along with the presence it triggers.
   */
  beforePresence(hook: (session: UserSession) => Promise<unknown>): void {
    this.#beforePresence.push(hook);
  }

  get fullJid(): string {
    return `${this.bareJid}/${this.resource}`;
  }
  get isOnline(): boolean {
    return this.state === 'online';
  }
  get client(): Client {
    return this.#x;
  }

  /** First connect: rejects with BAD_CREDENTIALS / XMPP_UNAVAILABLE, never retries a wrong password. */
  async start(): Promise<void> {
    const online = new Promise<void>((resolve) => this.once('ready', () => resolve()));
    try {
      // The socket outlives the login request that opens it: keep that request's id off its later log lines.
      await outsideLogContext(() => connectOnce(this.#x, this.opts, START_TIMEOUT_MS));
    } catch (err) {
      this.#stopping = true;
      this.#reconnector.stop();
      await this.#x.stop().catch(() => undefined);
      throw connectError(err);
    }
    await online;
  }

  async #becameOnline(resumed: boolean): Promise<void> {
    if (this.#stopping) return;
    await smSettled(this.#x);
    if (!resumed) {
      for (const hook of this.#beforePresence) {
        try {
          await hook(this);
        } catch (err) {
          this.#log.warn({ err }, 'before-presence hook failed');
        }
      }
      await this.#x.send(xml('presence')).catch((err) => this.#log.warn({ err }, 'initial presence failed'));
    }
    if (this.state === 'reconnecting') this.opts.metrics?.reconnected(resumed);
    this.#setState('online');
    this.emit('ready', resumed);
  }

  #setState(next: SessionState): void {
    const prev = this.state;
    if (prev === next) return;
    this.state = next;
    this.#log.info({ from: prev, to: next }, 'session state');
    this.emit('state', next, prev);
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  /** Sends a stanza; 503 while the session is between connections, so callers never lose it silently. */
  async send(stanza: Element): Promise<void> {
    if (!this.isOnline)
      throw new BridgeError('XMPP_UNAVAILABLE', 'the XMPP session is reconnecting; try again shortly', {
        retryAfter: 2,
      });
    await this.#x.send(stanza);
    if (stanza.is('message')) this.opts.metrics?.message('out', stanza.attrs.type as string | undefined);
  }

  /** IQ request/response; XMPP errors come back as BridgeErrors through the error table. */
  async iq(stanza: Element, timeoutMs = 10_000, what = 'request'): Promise<Element> {
    // The connection itself, not `state`: beforePresence hooks query before the session counts as online.
    if ((this.#x.status as string) !== 'online')
      throw new BridgeError('XMPP_UNAVAILABLE', 'the XMPP session is reconnecting; try again shortly', {
        retryAfter: 2,
      });
    try {
      return await this.#x.iqCaller.request(stanza, timeoutMs);
    } catch (err) {
      throw fromStanzaError(err, what);
    }
  }

  /** Ends the XMPP session: unavailable presence, then </stream>. */
  async stop(): Promise<void> {
    if (this.#stopping && this.state === 'offline') return;
    this.#stopping = true;
    this.#reconnector.stop();
    try {
      if (this.#x.status === 'online') await this.#x.send(xml('presence', { type: 'unavailable' }));
      await this.#x.stop();
    } catch (err) {
      this.#log.debug({ err }, 'error while closing the XMPP session');
      await this.#x.disconnect().catch(() => undefined);
    }
    this.#setState('offline');
    this.#backlog?.end();
  }
}

/** SASL failures are the user's credentials; anything else means the server could not be reached. */
export function connectError(err: unknown): BridgeError {
  const e = err as { name?: string; condition?: string; code?: string; message?: string };
  if (e?.name === 'SASLError' || e?.condition === 'not-authorized' || e?.condition === 'account-disabled') {
    return new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password', {
      cause: err,
    });
  }
  return new BridgeError(
    'XMPP_UNAVAILABLE',
    `cannot reach the XMPP server (${e?.code ?? e?.condition ?? e?.message ?? 'unknown error'})`,
    { cause: err, retryAfter: 5 },
  );
}
