import { BridgeError } from '../errors/BridgeError.js';
import type { AccountBlocks } from './AccountBlocks.js';
import type { LoginPolicy, SendPolicy } from './ports.js';

/**
 * The Parley-side ACL (moderation_account_blocks) as ports: one indexed query per send or login, the
 * same as the URL guard it replaces. Not cached in memory: a block set on another instance must hold
 * at once everywhere, and a send already costs a database write.
 */
export class AccountPolicy implements SendPolicy, LoginPolicy {
  constructor(private readonly blocks: Pick<AccountBlocks, 'has'>) {}

  async assertMaySend(username: string): Promise<void> {
    if (await this.blocks.has(username, 'muted', 'disabled'))
      throw new BridgeError('FORBIDDEN', `${username} may not send messages (blocked by an administrator)`);
  }

  async assertMayLogin(username: string): Promise<void> {
    if (await this.blocks.has(username, 'disabled'))
      throw new BridgeError('FORBIDDEN', `the account ${username} is disabled by an administrator`);
  }
}
