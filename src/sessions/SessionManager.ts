import { hostname } from 'node:os';
import { BridgeError } from '../errors/BridgeError.js';
import type { SessionState, UserSession } from '../xmpp/client/UserSession.js';
import type { TokenOwner } from './SessionStore.js';
import { SessionTokens, type TokenCredential } from './SessionTokens.js';
import { SessionConnector } from './SessionConnector.js';
import { SessionAnnouncer } from './SessionAnnouncer.js';
import { SessionRestorer, type RestoreHost } from './SessionRestorer.js';
import type { OutboundBudget } from '../xmpp/client/OutboundBudget.js';

import type {
  LoginResult,
  SessionManagerDeps,
  SessionListener,
  ReadyListener,
  RestoredListener,
} from './sessionManagerTypes.js';

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
  readonly #restored: RestoredListener[] = [];
  readonly #tokens: SessionTokens;
  readonly #connector: SessionConnector;
  readonly #announcer: SessionAnnouncer;
  readonly instanceId: string;
  #reaper: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #restorer: SessionRestorer;

  constructor(private readonly deps: SessionManagerDeps) {
    this.instanceId = deps.instanceId ?? hostname();
    this.#tokens = new SessionTokens({
      store: deps.store,
      isLive: (streamId) => this.#byStream.has(streamId),
      ttlSeconds: deps.tokenTtlSeconds,
    });
    this.#connector = new SessionConnector(deps, (session) => {
      for (const l of this.#created) l(session);
    });
    this.#announcer = new SessionAnnouncer(deps);
    this.#restorer = new SessionRestorer({
      host: this.#restoreHost(),
      log: deps.log,
      accounts: deps.accounts,
      verifier: deps.verifier,
      box: deps.restore?.box,
      concurrency: deps.restore?.concurrency,
      loginPolicy: deps.loginPolicy,
    });
  }

  /** The restorer's view of this manager: what it may do with the sessions, nothing more. */
  #restoreHost(): RestoreHost {
    return {
      stopped: () => this.#stopped,
      get: (streamId) => this.get(streamId),
      byUser: (username) => this.byUser(username),
      register: (username, secret, streamId) => {
        const session = this.#connector.create(username, secret, streamId);
        this.#register(session);
        return session;
      },
      prepare: async (session) => {
        for (const l of this.#created) l(session);
        for (const l of this.#restored)
          await l(session).catch((err) =>
            this.deps.log.warn({ err, streamId: session.streamId }, 'restore hook failed'),
          );
      },
      giveUp: async (session, reason) => {
        this.#unregister(session);
        await this.#announcer.announce(session, 'offline', reason);
      },
      endRow: (row, reason) => this.#announcer.endRow(row, reason),
    };
  }

  async start(): Promise<void> {
    if (this.deps.restore) {
      const rows = await this.deps.store.liveSessions(this.instanceId);
      if (rows.length)
        this.deps.log.info({ count: rows.length }, 'restoring the sessions left live by the previous run');
      await this.#restorer.restoreAll(rows);
    } else {
      const n = await this.deps.store.endOrphans(this.instanceId);
      if (n) this.deps.log.info({ count: n }, 'ended sessions left open by a previous run');
    }
    const every = Math.min(30_000, Math.max(1000, (this.deps.idleSeconds * 1000) / 4));
    this.#reaper = setInterval(() => void this.reapIdle(), every);
    this.#reaper.unref();
  }

  /** Features hook their stanza handling onto every new session here. */
  onSessionCreated(listener: SessionListener): void {
    this.#created.push(listener);
  }

  /**
   * Called once the session is first online and again after every reconnect (initial presence sent):
   * enable carbons, catch up from the archive, rejoin rooms. Errors are logged, never fatal.
   */
  onSessionReady(listener: ReadyListener): void {
    this.#ready.push(listener);
  }

  /** Called for a session restored after a restart, after onSessionCreated and before it connects. */
  onSessionRestored(listener: RestoredListener): void {
    this.#restored.push(listener);
  }

  /** Resolves once every session restored at start has connected (or been given up); for tests and tools. */
  get restored(): Promise<void> {
    return this.#restorer.done;
  }

  async #runReady(session: UserSession, resumed: boolean): Promise<void> {
    for (const l of this.#ready) {
      try {
        await l(session, resumed);
      } catch (err) {
        this.deps.log.warn({ err, streamId: session.streamId }, 'session ready hook failed');
      }
    }
  }

  get(streamId: string): UserSession | undefined {
    return this.#byStream.get(streamId);
  }
  byUser(username: string): UserSession | undefined {
    return this.#byUser.get(username);
  }
  get size(): number {
    return this.#byUser.size;
  }
  /** the instance's backpressure ledger (what chat times its messages by) */
  get outbound(): OutboundBudget | undefined {
    return this.deps.outbound;
  }
  all(): UserSession[] {
    return [...this.#byUser.values()];
  }

  /**
   * `password` undefined means the caller holds the master secret: Parley supplies the account.
   * Concurrent logins of one user share one connection attempt; a caller never inherits another caller's
   * failure (a wrong password in flight must not fail the real user's login): it then tries its own.
   */
  async login(username: string, password: string | undefined): Promise<LoginResult> {
    await this.deps.loginPolicy?.assertMayLogin(username);
    const cursor = await this.deps.hub.latestId(username);
    for (;;) {
      const live = this.#byUser.get(username);
      const pending = this.#pending.get(username);
      if (live || pending) {
        const session = live ?? (await pending!.catch(() => undefined));
        if (!session) continue; // that attempt failed; the loop starts (or joins) the next one
        if (password !== undefined && !(await this.deps.verifier.verify(username, password)))
          throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
        return { session, token: await this.#tokens.issue(session), reused: true, cursor };
      }
      const mine = this.#open(username, password).finally(() => this.#pending.delete(username));
      const joined = mine.then((opened) => opened.session);
      joined.catch(() => undefined); // the failure is this caller's to report; joiners start their own
      this.#pending.set(username, joined);
      return { ...(await mine), reused: false, cursor };
    }
  }

  async #open(
    username: string,
    password: string | undefined,
  ): Promise<{ session: UserSession; token: string }> {
    const session = await this.#connector.connect(username, password);
    const credentialEnc = password !== undefined ? this.deps.restore?.box.seal(password) : undefined;
    const credential = SessionTokens.mint();
    await this.deps.store.createSession({
      streamId: session.streamId,
      username,
      jid: session.bareJid,
      instanceId: this.instanceId,
      credentialEnc,
      tokenHash: credential.hash,
    });
    this.#register(session);
    this.#tokens.stored(session, credential);
    await this.#announcer.announce(session, 'online', undefined, true);
    void this.#runReady(session, false);
    return { session, token: credential.token };
  }

  #unregister(session: UserSession): void {
    this.#byStream.delete(session.streamId);
    this.#byUser.delete(session.username);
    this.#tokens.forgetStream(session.streamId);
  }

  #register(session: UserSession): void {
    this.#byUser.set(session.username, session);
    this.#byStream.set(session.streamId, session);
    session.on('state', this.#on.state);
    session.on('ready', this.#on.ready);
  }

  /** The same listeners for every session (a listener's `this` is its session), not closures per session. */
  readonly #on = SessionManager.#sessionListeners(this);
  static #sessionListeners(manager: SessionManager) {
    return {
      state(this: UserSession, state: SessionState): void {
        void manager.#stateChanged(this, state);
      },
      ready(this: UserSession, resumed: boolean): void {
        void manager.#runReady(this, resumed);
      },
    };
  }

  /** The stream a bearer token belongs to; undefined for unknown and expired tokens (SessionTokens.owner). */
  tokenOwner(token: string | TokenCredential): Promise<TokenOwner | undefined> {
    return this.#tokens.owner(token);
  }

  async logoff(streamId: string, reason = 'logoff'): Promise<void> {
    const session = this.#byStream.get(streamId);
    if (!session) throw new BridgeError('STREAM_NOT_FOUND', `no live session with stream id ${streamId}`);
    this.#unregister(session);
    this.deps.verifier.forget(session.username);
    await session.stop();
    await this.#announcer.announce(session, 'offline', reason);
    session.emit('ended');
  }

  async #stateChanged(session: UserSession, state: SessionState): Promise<void> {
    if (state === 'connecting' || state === 'offline') return; // offline is published by logoff with its reason
    if (this.#byStream.get(session.streamId) !== session) return;
    await this.#announcer.announce(session, state);
  }

  async reapIdle(now = Date.now()): Promise<void> {
    const limit = this.deps.idleSeconds * 1000;
    for (const s of this.#byUser.values()) {
      if (s.openStreams === 0 && now - s.lastActivity > limit) {
        this.deps.log.info({ streamId: s.streamId, user: s.username }, 'logging off idle session');
        await this.logoff(s.streamId, 'idle').catch((err) =>
          this.deps.log.warn({ err }, 'idle logoff failed'),
        );
      }
    }
  }

  /**
   * Restart-safe: with restore on, sessions are only disconnected (unavailable presence) and stay live in
   * the database for the next start of this instance; without it they are logged off.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#reaper);
    if (!this.deps.restore) {
      await Promise.all(this.all().map((s) => this.logoff(s.streamId, 'shutdown').catch(() => undefined)));
      return;
    }
    await Promise.all(
      this.all().map(async (session) => {
        this.#unregister(session);
        await session.stop().catch(() => undefined);
        await this.deps.store
          .setState(session.streamId, 'reconnecting')
          .catch((err) => this.deps.log.warn({ err }, 'could not record session state'));
        session.emit('ended');
      }),
    );
  }

  // ---- restore after a restart -------------------------------------------------------------------------

  /** Cluster: brings back here the sessions of instances that went away (see SessionStore.adoptOrphans). */
  async adoptOrphans(staleSeconds: number): Promise<number> {
    if (!this.deps.restore || this.#stopped) return 0;
    const rows = await this.deps.store.adoptOrphans(this.instanceId, staleSeconds);
    if (rows.length) {
      this.deps.log.info({ count: rows.length }, 'adopting the sessions of an instance that went away');
      await this.#restorer.restoreAll(rows);
    }
    return rows.length;
  }
}
