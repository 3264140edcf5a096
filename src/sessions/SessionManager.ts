import { hostname } from 'node:os';
import type { Log } from '../log.js';
import type { XmppMetrics } from '../metrics/Metrics.js';
import { BridgeError } from '../errors/BridgeError.js';
import { hashToken, newToken, randomId } from '../crypto/tokens.js';
import { UserSession, type SessionState } from '../xmpp/client/UserSession.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES, type SessionEventPayload } from '../sse/events.js';
import type { SessionStore } from './SessionStore.js';
import type { AccountService } from './AccountService.js';
import type { CredentialVerifier } from './CredentialVerifier.js';

/** `cursor`: the user's last event id before this login; replaying after it shows what the login brought in. */
export interface LoginResult { session: UserSession; token: string; reused: boolean; cursor: string }
export interface SessionManagerDeps {
  store: SessionStore; hub: EventHub; accounts: AccountService; verifier: CredentialVerifier; log: Log;
  xmpp: { service: string; domain: string; reconnectMaxSeconds: number };
  idleSeconds: number; instanceId?: string;
  /** given to every UserSession (messages in/out, reconnects) */
  metrics?: XmppMetrics;
}
export type SessionListener = (session: UserSession) => void;
/** `resumed` is true after an XEP-0198 resumption (nothing was lost, nothing to redo). */
export type ReadyListener = (session: UserSession, resumed: boolean) => void | Promise<void>;

/**
 * One XMPP session per user on this instance, shared by all of that user's tabs and streams.
 * Login returns the live session's stream id with a fresh token; logoff or idleness ends it.
 */
export class SessionManager {
  readonly #byUser = new Map<string, UserSession>();
  readonly #byStream = new Map<string, UserSession>();
  readonly #pending = new Map<string, Promise<UserSession>>();
  readonly #created: SessionListener[] = [];
  readonly #ready: ReadyListener[] = [];
  readonly instanceId: string;
  #reaper: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SessionManagerDeps) {
    this.instanceId = deps.instanceId ?? hostname();
  }

  async start(): Promise<void> {
    const n = await this.deps.store.endOrphans(this.instanceId);
    if (n) this.deps.log.info({ count: n }, 'ended sessions left open by a previous run');
    const every = Math.min(30_000, Math.max(1000, (this.deps.idleSeconds * 1000) / 4));
    this.#reaper = setInterval(() => void this.reapIdle(), every);
    this.#reaper.unref();
  }

  /** Features hook their stanza handling onto every new session here. */
  onSessionCreated(listener: SessionListener): void { this.#created.push(listener); }

  /**
   * Called once the session is first online and again after every reconnect (initial presence sent):
   * enable carbons, catch up from the archive, rejoin rooms. Errors are logged, never fatal.
   */
  onSessionReady(listener: ReadyListener): void { this.#ready.push(listener); }

  async #runReady(session: UserSession, resumed: boolean): Promise<void> {
    for (const l of this.#ready) {
      try { await l(session, resumed); } catch (err) { this.deps.log.warn({ err, streamId: session.streamId }, 'session ready hook failed'); }
    }
  }

  get(streamId: string): UserSession | undefined { return this.#byStream.get(streamId); }
  byUser(username: string): UserSession | undefined { return this.#byUser.get(username); }
  get size(): number { return this.#byUser.size; }
  all(): UserSession[] { return [...this.#byUser.values()]; }

  /** `password` undefined means the caller holds the master secret: Parley supplies the account. */
  async login(username: string, password: string | undefined): Promise<LoginResult> {
    const cursor = await this.deps.hub.latestId(username);
    const live = this.#byUser.get(username);
    if (live) {
      if (password !== undefined && !(await this.deps.verifier.verify(username, password))) {
        throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
      }
      return { session: live, token: await this.#issueToken(live), reused: true, cursor };
    }
    let pending = this.#pending.get(username);
    const mine = !pending;
    if (!pending) {
      pending = this.#open(username, password).finally(() => this.#pending.delete(username));
      this.#pending.set(username, pending);
    }
    const session = await pending;
    if (!mine && password !== undefined && !(await this.deps.verifier.verify(username, password))) {
      throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
    }
    return { session, token: await this.#issueToken(session), reused: !mine, cursor };
  }

  async #open(username: string, password: string | undefined): Promise<UserSession> {
    const viaMaster = password === undefined;
    let pw = password ?? await this.deps.accounts.passwordFor(username);
    let session = this.#newSession(username, pw);
    try {
      await this.#start(session);
    } catch (err) {
      // A managed account whose password was changed behind Parley's back: reset it once and retry.
      if (!(viaMaster && err instanceof BridgeError && err.code === 'BAD_CREDENTIALS')) throw err;
      pw = await this.deps.accounts.resetPassword(username);
      session = this.#newSession(username, pw);
      await this.#start(session);
    }
    if (!viaMaster) this.deps.verifier.remember(username, pw);
    await this.deps.store.createSession({ streamId: session.streamId, username, jid: session.bareJid, instanceId: this.instanceId });
    this.#byUser.set(username, session);
    this.#byStream.set(session.streamId, session);
    session.on('state', (state) => void this.#stateChanged(session, state));
    session.on('ready', (resumed) => void this.#runReady(session, resumed));
    await this.#publishState(session, 'online');
    void this.#runReady(session, false);
    return session;
  }

  /**
   * Features attach their stanza handling before the connection opens: the server answers the initial
   * presence (contacts' presence, offline messages) at once, and none of it may fall between the cracks.
   * A session that fails to start is announced as ended, so features drop what they kept for it.
   */
  async #start(session: UserSession): Promise<void> {
    for (const l of this.#created) l(session);
    try {
      await session.start();
    } catch (err) {
      session.emit('ended');
      throw err;
    }
  }

  #newSession(username: string, password: string): UserSession {
    return new UserSession({
      streamId: randomId('ps_'), username, password,
      service: this.deps.xmpp.service, domain: this.deps.xmpp.domain,
      reconnectMaxSeconds: this.deps.xmpp.reconnectMaxSeconds, log: this.deps.log, metrics: this.deps.metrics,
    });
  }

  async #issueToken(session: UserSession): Promise<string> {
    const token = newToken();
    await this.deps.store.addToken(session.streamId, hashToken(token));
    session.touch();
    return token;
  }

  /** Which stream a bearer token belongs to; undefined for unknown tokens. */
  async tokenOwner(token: string) {
    return this.deps.store.tokenOwner(hashToken(token));
  }

  async logoff(streamId: string, reason = 'logoff'): Promise<void> {
    const session = this.#byStream.get(streamId);
    if (!session) throw new BridgeError('STREAM_NOT_FOUND', `no live session with stream id ${streamId}`);
    this.#byStream.delete(streamId);
    this.#byUser.delete(session.username);
    this.deps.verifier.forget(session.username);
    await session.stop();
    await this.#publishState(session, 'offline', reason);
    session.emit('ended');
  }

  async #stateChanged(session: UserSession, state: SessionState): Promise<void> {
    if (state === 'connecting' || state === 'offline') return; // offline is published by logoff with its reason
    if (this.#byStream.get(session.streamId) !== session) return;
    await this.#publishState(session, state);
  }

  async #publishState(session: UserSession, state: Exclude<SessionState, 'connecting'>, reason?: string): Promise<void> {
    try {
      await this.deps.store.setState(session.streamId, state);
      const payload: SessionEventPayload = { type: state, streamId: session.streamId, jid: session.bareJid, ...(reason ? { reason } : {}) };
      await this.deps.hub.publish(session.username, EVENT_NAMES.session, payload, { durable: true });
    } catch (err) {
      this.deps.log.warn({ err, streamId: session.streamId, state }, 'could not record session state');
    }
  }

  async reapIdle(now = Date.now()): Promise<void> {
    const limit = this.deps.idleSeconds * 1000;
    for (const s of this.#byUser.values()) {
      if (s.openStreams === 0 && now - s.lastActivity > limit) {
        this.deps.log.info({ streamId: s.streamId, user: s.username }, 'logging off idle session');
        await this.logoff(s.streamId, 'idle').catch((err) => this.deps.log.warn({ err }, 'idle logoff failed'));
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#reaper);
    await Promise.all(this.all().map((s) => this.logoff(s.streamId, 'shutdown').catch(() => undefined)));
  }
}
