import type { Log } from '../log.js';
import type { XmppMetrics } from '../metrics/Metrics.js';
import { BridgeError } from '../errors/BridgeError.js';
import { randomId } from '../crypto/tokens.js';
import { UserSession, type UserSessionOptions } from '../xmpp/client/UserSession.js';
import type { AccountService } from './AccountService.js';
import type { CredentialVerifier } from './CredentialVerifier.js';
import type { OutboundBudget } from '../xmpp/client/OutboundBudget.js';
import { isToken, type XmppSecret } from '../xmpp/client/LoginTokens.js';

/** The part of SessionManagerDeps a connector uses. */
export interface ConnectorDeps {
  accounts: Pick<AccountService, 'credentialFor' | 'resetPassword'>;
  verifier: Pick<CredentialVerifier, 'remember' | 'throttled'>;
  log: Log;
  xmpp: { service: string; domain: string; reconnectMaxSeconds: number; allowPlainUnencrypted?: boolean };
  metrics?: XmppMetrics;
  outbound?: OutboundBudget;
  createSession?: (opts: UserSessionOptions) => UserSession;
}

/**
 * Logs a user in to the XMPP server with the right credential: the user's password, or for a master-secret
 * login the account Parley holds. What the session then is to Parley (registered, stored, announced) is
 * the SessionManager's business.
 */
export class SessionConnector {
  constructor(
    private readonly deps: ConnectorDeps,
    /** the features' created hooks */
    private readonly created: (session: UserSession) => void,
  ) {}

  async connect(username: string, password: string | undefined): Promise<UserSession> {
    const viaMaster = password === undefined;
    let secret: XmppSecret = password ?? (await this.deps.accounts.credentialFor(username));
    let session = this.create(username, secret);
    try {
      // A password login is a password check: it backs off like Basic auth does (LoginThrottle).
      if (viaMaster) await this.#start(session);
      else await this.deps.verifier.throttled(username, () => this.#start(session));
    } catch (err) {
      if (!(viaMaster && err instanceof BridgeError && err.code === 'BAD_CREDENTIALS')) throw err;
      if (isToken(secret)) throw tokenRefused(username, this.deps.xmpp.domain);
      // A managed account whose password was changed behind Parley's back: reset it once and retry.
      secret = await this.deps.accounts.resetPassword(username);
      session = this.create(username, secret);
      await this.#start(session);
    }
    if (!viaMaster) this.deps.verifier.remember(username, password);
    return session;
  }

  /**
   * Features attach their stanza handling before the connection opens: the server answers the initial
   * presence (contacts' presence, offline messages) at once, and none of it may fall between the cracks.
   * A session that fails to start is announced as ended, so features drop what they kept for it.
   */
  async #start(session: UserSession): Promise<void> {
    this.created(session);
    try {
      await session.start();
    } catch (err) {
      session.emit('ended');
      throw err;
    }
  }

  create(username: string, secret: XmppSecret, streamId = randomId('ps_')): UserSession {
    const create = this.deps.createSession ?? ((opts: UserSessionOptions) => new UserSession(opts));
    return create({
      streamId,
      username,
      password: secret,
      service: this.deps.xmpp.service,
      domain: this.deps.xmpp.domain,
      reconnectMaxSeconds: this.deps.xmpp.reconnectMaxSeconds,
      allowPlainUnencrypted: this.deps.xmpp.allowPlainUnencrypted,
      log: this.deps.log,
      metrics: this.deps.metrics,
      outbound: this.deps.outbound,
    });
  }
}

/** The server said no to a valid-looking token: the secret differs, its module is missing, or no such account. */
function tokenRefused(username: string, domain: string): BridgeError {
  return new BridgeError(
    'LOGIN_TOKEN_REFUSED',
    `the XMPP server refused Parley's login token for ${username}@${domain}: the account does not exist, or the server does not share XMPP_LOGIN_TOKEN_SECRET (docs/accounts.md)`,
  );
}
