import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { SecretBox } from '../crypto/SecretBox.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import type { LiveSessionRow } from './SessionStore.js';
import type { AccountService } from './AccountService.js';
import type { CredentialVerifier } from './CredentialVerifier.js';

/** What the restorer needs of the SessionManager that owns the sessions. */
export interface RestoreHost {
  log: Log;
  accounts: AccountService;
  verifier: CredentialVerifier;
  box?: SecretBox;
  concurrency?: number;
  stopped(): boolean;
  current(streamId: string): UserSession | undefined;
  hasUser(username: string): boolean;
  newSession(username: string, password: string, streamId: string): UserSession;
  /** into the manager's maps, with its state and ready listeners */
  register(session: UserSession): void;
  unregister(session: UserSession): void;
  /** the features' created and restored hooks */
  prepare(session: UserSession): Promise<void>;
  publishState(session: UserSession, state: 'offline', reason: string): Promise<void>;
  endRow(row: LiveSessionRow, reason: string): Promise<void>;
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
  constructor(private readonly host: RestoreHost) {}

  /** Resolves once every session handed over so far has connected or been given up. */
  get done(): Promise<void> {
    return this.#done;
  }

  async restoreAll(rows: LiveSessionRow[]): Promise<void> {
    const queue: (() => Promise<void>)[] = [];
    for (const row of rows) {
      const password = await this.#password(row);
      // No password (sealed under another secret, not ours), or a second row for one user: that one ends.
      if (password === undefined || this.host.hasUser(row.username)) {
        await this.host.endRow(row, 'restore');
        continue;
      }
      const session = this.host.newSession(row.username, password, row.streamId);
      this.host.register(session);
      queue.push(() => this.#connect(session, password, row));
    }
    const workers = Array.from({ length: Math.min(queue.length, this.host.concurrency ?? 8) }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    });
    this.#done = Promise.all([this.#done, ...workers]).then(() => undefined);
  }

  async #password(row: LiveSessionRow): Promise<string | undefined> {
    if (row.credentialEnc) {
      const password = this.host.box?.open(row.credentialEnc);
      if (password === undefined)
        this.host.log.warn(
          { streamId: row.streamId },
          'cannot restore a session sealed under another PARLEY_SECRET',
        );
      return password;
    }
    if (!(await this.host.accounts.isManaged(row.username))) return undefined;
    return this.host.accounts.passwordFor(row.username).catch((err: unknown) => {
      this.host.log.warn({ err, user: row.username }, 'no password to restore the session with');
      return undefined;
    });
  }

  /** Retries while the XMPP server is unreachable (it may be restarting too); wrong credentials end it. */
  async #connect(first: UserSession, password: string, row: LiveSessionRow): Promise<void> {
    let session = first;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.host.prepare(session);
        await session.start(); // registered before: its listeners publish `online` and run the ready hooks
        if (row.credentialEnc) this.host.verifier.remember(row.username, password);
        this.host.log.info({ streamId: row.streamId, user: row.username }, 'session restored');
        return;
      } catch (err) {
        const retry =
          !(err instanceof BridgeError && err.code === 'BAD_CREDENTIALS') && attempt < MAX_ATTEMPTS;
        this.host.log.warn({ err, streamId: row.streamId, attempt, retry }, 'could not restore session');
        if (this.host.stopped() || this.host.current(row.streamId) !== session) return; // stopping, or logged off meanwhile
        session.emit('ended');
        if (!retry) {
          this.host.unregister(session);
          await this.host.publishState(session, 'offline', 'restore');
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(15_000, 500 * 2 ** attempt)).unref());
        if (this.host.stopped() || this.host.current(row.streamId) !== session) return;
        session = this.host.newSession(row.username, password, row.streamId);
        this.host.register(session);
      }
    }
  }
}
