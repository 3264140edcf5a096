import type { Log } from '../log.js';
import type { XmppMetrics } from '../metrics/Metrics.js';
import type { UserSession, UserSessionOptions } from '../xmpp/client/UserSession.js';
import type { EventHub } from '../sse/EventHub.js';
import type { SessionStore } from './SessionStore.js';
import type { SecretBox } from '../crypto/SecretBox.js';
import type { LoginCheck } from './SessionRestorer.js';
import type { AccountService } from './AccountService.js';
import type { CredentialVerifier } from './CredentialVerifier.js';
import type { OutboundBudget } from '../xmpp/client/OutboundBudget.js';

/** What the SessionManager is made with and hands out (its own file: the manager's is long enough). */

/** `cursor`: the user's last event id before this login; replaying after it shows what the login brought in. */
export interface LoginResult {
  session: UserSession;
  token: string;
  reused: boolean;
  cursor: string;
}
export interface SessionManagerDeps {
  store: SessionStore;
  hub: Pick<EventHub, 'latestId' | 'publish'>;
  accounts: Pick<AccountService, 'credentialFor' | 'resetPassword' | 'isManaged' | 'usesTokens'>;
  verifier: Pick<CredentialVerifier, 'verify' | 'remember' | 'forget' | 'throttled'>;
  log: Log;
  xmpp: { service: string; domain: string; reconnectMaxSeconds: number; allowPlainUnencrypted?: boolean };
  idleSeconds: number;
  /**
   * absolute token lifetime (PARLEY_TOKEN_TTL_SECONDS, default one day): a leaked token stops working even
   * while its session lives
   */
  tokenTtlSeconds?: number;
  instanceId?: string;
  /**
   * Sessions survive a gateway restart (PARLEY_SESSION_RESTORE): the password of a password login is kept
   * sealed with this box while the session lives, and the next start of this instance logs them in again.
   */
  restore?: { box: SecretBox; concurrency?: number };
  /** given to every UserSession (messages in/out, reconnects) */
  metrics?: XmppMetrics;
  /** the instance's backpressure ledger, shared by every UserSession */
  outbound?: OutboundBudget;
  /**
   * Asked before a login or restore opens an XMPP session (moderation's LoginPolicy: a disabled account
   * gets 403 and no session). Absent: everyone may log in.
   */
  loginPolicy?: LoginCheck;
  /** default: a real XMPP session; unit tests pass sessions that do not connect */
  createSession?: (opts: UserSessionOptions) => UserSession;
}
export type SessionListener = (session: UserSession) => void;
/** `resumed` is true after an XEP-0198 resumption (nothing was lost, nothing to redo). */
export type ReadyListener = (session: UserSession, resumed: boolean) => void | Promise<void>;
/** A session brought back after a gateway restart, before it connects: put back what it had (its rooms). */
export type RestoredListener = (session: UserSession) => Promise<void>;
