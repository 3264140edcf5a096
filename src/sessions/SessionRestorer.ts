import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { SecretBox } from '../crypto/SecretBox.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import type { LiveSessionRow } from './SessionStore.js';
import type { AccountService } from './AccountService.js';
import type { CredentialVerifier } from './CredentialVerifier.js';
import type { XmppSecret } from '../xmpp/client/LoginTokens.js';

/** What the restorer asks of the SessionManager that owns the sessions (it implements this). */
export interface RestoreHost {
  stopped(): boolean;
  get(streamId: string): UserSession | undefined;
  byUser(username: string): UserSession | undefined;
  /** A new session for this stream, registered at once: requests find it, commands answer 503 until online. */
  register(username: string, secret: XmppSecret, streamId: string): UserSession;
  /** Runs the features' created and restored hooks; before every connection attempt. */
  prepare(session: UserSession): Promise<void>;
  /** Unregisters the session and announces it offline with this reason. */
  giveUp(session: UserSession, reason: string): Promise<void>;
  /** Ends a stored session that is not brought back. */
  endRow(row: LiveSessionRow, reason: string): Promise<void>;
}

export interface RestorerDeps {
  host: RestoreHost;
  log: Log;
  accounts: Pick<AccountService, 'isManaged' | 'credentialFor' | 'usesTokens'>;
  verifier: Pick<CredentialVerifier, 'remember'>;
  box?: Pick<SecretBox, 'open'>;
  concurrency?: number;
  /** moderation's: a disabled account's session is not brought back */
  loginPolicy?: LoginCheck;
}
export interface LoginCheck {
  assertMayLogin(username: string): Promise<void>;
}

const MAX_ATTEMPTS = 8;

/**
 * Brings back sessions left live by a previous run of this instance (or adopted from one that went away).
 * Every session is registered at once (requests and streams find it, commands answer 503 until it is
 * online), then logged in again a few at a time so a restart does not storm the XMPP server. What the
 * user received meanwhile comes from the archive catch-up of the ready hooks, as after any reconnect.
 */
export class SessionRestorer {
  #done: Promise<void> = Promise.resolve();
  readonly #host: RestoreHost;
  constructor(private readonly deps: RestorerDeps) {
    this.#host = deps.host;
  }

  /** Resolves once every session handed over so far has connected or been given up. */
  get done(): Promise<void> {
    return this.#done;
  }

  async restoreAll(rows: LiveSessionRow[]): Promise<void> {
    const queue: (() => Promise<void>)[] = [];
    for (const row of rows) {
      const password = await this.#password(row);
      // No password (sealed under another secret, not ours), or a second row for one user: that one ends.
      if (password === undefined || this.#host.byUser(row.username)) {
        await this.#host.endRow(row, 'restore');
        continue;
      }
      if (!(await this.#admitted(row.username))) {
        await this.#host.endRow(row, 'disabled');
        continue;
      }
      const session = this.#host.register(row.username, password, row.streamId);
      queue.push(() => this.#connect(session, password, row));
    }
    const workers = Array.from({ length: Math.min(queue.length, this.deps.concurrency ?? 8) }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    });
    this.#done = Promise.all([this.#done, ...workers]).then(() => undefined);
  }

  async #admitted(username: string): Promise<boolean> {
    try {
      await this.deps.loginPolicy?.assertMayLogin(username);
      return true;
    } catch (err) {
      if (err instanceof BridgeError && err.code === 'FORBIDDEN') return false;
      throw err;
    }
  }

  /** A password login's sealed password; for a master-secret login, what credentialFor gives now. */
  async #password(row: LiveSessionRow): Promise<XmppSecret | undefined> {
    if (row.credentialEnc) {
      const password = this.deps.box?.open(row.credentialEnc);
      if (password === undefined)
        this.deps.log.warn(
          { streamId: row.streamId },
          'cannot restore a session sealed under another PARLEY_SECRET',
        );
      return password;
    }
    if (!this.deps.accounts.usesTokens && !(await this.deps.accounts.isManaged(row.username)))
      return undefined;
    return this.deps.accounts.credentialFor(row.username).catch((err: unknown) => {
      this.deps.log.warn({ err, user: row.username }, 'no password to restore the session with');
      return undefined;
    });
  }

  /** Retries while the XMPP server is unreachable (it may be restarting too); wrong credentials end it. */
  async #connect(first: UserSession, password: XmppSecret, row: LiveSessionRow): Promise<void> {
    let session = first;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#host.prepare(session);
        await session.start(); // registered before: its listeners publish `online` and run the ready hooks
        if (row.credentialEnc && typeof password === 'string')
          this.deps.verifier.remember(row.username, password);
        this.deps.log.info({ streamId: row.streamId, user: row.username }, 'session restored');
        return;
      } catch (err) {
        const retry =
          !(err instanceof BridgeError && err.code === 'BAD_CREDENTIALS') && attempt < MAX_ATTEMPTS;
        this.deps.log.warn({ err, streamId: row.streamId, attempt, retry }, 'could not restore session');
        if (this.#host.stopped() || this.#host.get(row.streamId) !== session) return; // stopping, or logged off meanwhile
        session.emit('ended');
        if (!retry) {
          await this.#host.giveUp(session, 'restore');
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(15_000, 500 * 2 ** attempt)).unref());
        if (this.#host.stopped() || this.#host.get(row.streamId) !== session) return;
        session = this.#host.register(row.username, password, row.streamId);
      }
    }
  }
}
