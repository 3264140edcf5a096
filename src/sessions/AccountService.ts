import { randomBytes } from 'node:crypto';
import { BridgeError } from '../errors/BridgeError.js';
import type { SecretBox } from '../crypto/SecretBox.js';
import { addUser, changePassword, type AdminIq } from '../xmpp/admin/provisioning.js';
import type { LoginTokens, XmppSecret } from '../xmpp/client/LoginTokens.js';
import type { SessionStore } from './SessionStore.js';

/** Accounts known to exist on the server though Parley did not create them: bounded, it is only a shortcut. */
const EXISTING_MAX = 50_000;

/**
 * Accounts for master-secret logins. Parley creates a missing XMPP account itself (XEP-0133 add-user) with a
 * random password it keeps encrypted. With login tokens (XMPP_LOGIN_TOKEN_SECRET, docs/accounts.md) every
 * master-secret login, of an account Parley created or of one that already existed, presents a fresh signed
 * token instead of a password: no password of an existing account is ever known or changed. Without tokens,
 * accounts Parley did not create are refused (409).
 */
export class AccountService {
  readonly #existing = new Set<string>();

  constructor(
    private readonly deps: {
      store: Pick<SessionStore, 'getAccount' | 'saveAccount'>;
      box: SecretBox;
      admin?: AdminIq;
      domain: string;
      /** the trust path: the XMPP server accepts tokens signed with the shared secret */
      tokens?: LoginTokens;
    },
  ) {}

  /** true when master-secret logins use login tokens (any existing account can be opened). */
  get usesTokens(): boolean {
    return this.deps.tokens !== undefined;
  }

  /** What a master-secret login of `username` presents: a login token, or the password of Parley's account. */
  async credentialFor(username: string): Promise<XmppSecret> {
    const tokens = this.deps.tokens;
    if (!tokens) return this.passwordFor(username);
    await this.#ensureAccount(username);
    return tokens.credentialFor(`${username}@${this.deps.domain}`);
  }

  /**
   * Login tokens open only existing accounts (the server module refuses the others): create the account when
   * it is missing and Parley may provision. An account that exists (ours, or answered "exists") costs nothing
   * the next time. Without an admin JID the server decides: a missing account refuses the token.
   */
  async #ensureAccount(username: string): Promise<void> {
    if (!this.deps.admin || this.#existing.has(username)) return;
    if (await this.deps.store.getAccount(username)) return;
    const jid = `${username}@${this.deps.domain}`;
    const password = randomBytes(24).toString('base64url');
    // Created: kept like every account Parley creates, so turning tokens off later keeps it usable.
    if ((await addUser(this.deps.admin, this.deps.domain, jid, password)) === 'created')
      await this.deps.store.saveAccount({ username, jid, passwordEnc: this.deps.box.seal(password) });
    else {
      if (this.#existing.size >= EXISTING_MAX) this.#existing.clear();
      this.#existing.add(username);
    }
  }

  /** The password to log `username` in with, creating the account when Parley has none. */
  async passwordFor(username: string): Promise<string> {
    const jid = `${username}@${this.deps.domain}`;
    const known = await this.deps.store.getAccount(username);
    if (known) {
      const pw = this.deps.box.open(known.passwordEnc);
      if (pw !== undefined) return pw;
      // Sealed under an older PARLEY_SECRET: the account is ours, so give it a fresh password.
      return this.resetPassword(username);
    }
    const admin = this.#admin();
    const password = randomBytes(24).toString('base64url');
    const outcome = await addUser(admin, this.deps.domain, jid, password);
    if (outcome === 'exists') {
      throw new BridgeError(
        'ACCOUNT_NOT_MANAGED',
        `${jid} already exists on the XMPP server and was not created by Parley; log in with the user's own password, or set XMPP_LOGIN_TOKEN_SECRET (docs/accounts.md)`,
      );
    }
    await this.deps.store.saveAccount({ username, jid, passwordEnc: this.deps.box.seal(password) });
    return password;
  }

  /** Only for accounts Parley created (the row proves it). */
  async resetPassword(username: string): Promise<string> {
    const jid = `${username}@${this.deps.domain}`;
    const password = randomBytes(24).toString('base64url');
    await changePassword(this.#admin(), this.deps.domain, jid, password);
    await this.deps.store.saveAccount({ username, jid, passwordEnc: this.deps.box.seal(password) });
    return password;
  }

  async isManaged(username: string): Promise<boolean> {
    return (await this.deps.store.getAccount(username)) !== undefined;
  }

  #admin(): AdminIq {
    if (!this.deps.admin) {
      throw new BridgeError(
        'PROVISIONING_DISABLED',
        'set XMPP_ADMIN_JID and XMPP_ADMIN_PASSWORD to let Parley create accounts',
      );
    }
    return this.deps.admin;
  }
}
