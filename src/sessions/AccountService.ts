import { randomBytes } from 'node:crypto';
import { BridgeError } from '../errors/BridgeError.js';
import type { SecretBox } from '../crypto/SecretBox.js';
import { addUser, changePassword, type AdminIq } from '../xmpp/admin/provisioning.js';
import type { SessionStore } from './SessionStore.js';

/**
 * Accounts for master-secret logins: Parley creates the XMPP account itself (XEP-0133 add-user)
 * with a random password it keeps encrypted, and never touches accounts it did not create.
 */
export class AccountService {
  constructor(
    private readonly deps: {
      store: Pick<SessionStore, 'getAccount' | 'saveAccount'>;
      box: SecretBox;
      admin?: AdminIq;
      domain: string;
    },
  ) {}

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
        `${jid} already exists on the XMPP server and was not created by Parley; log in with the user's own password`,
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
