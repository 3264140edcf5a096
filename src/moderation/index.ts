import type { Log } from '../log.js';
import type { Queryable } from '../store/db.js';
import { AccountBlocks } from './AccountBlocks.js';
import { AccountPolicy } from './AccountPolicy.js';

// The moderation feature's public entry: its factory and its ports.
export { createModerationFeature, type ModerationFeatureDeps } from './createModerationFeature.js';
export type { SendPolicy, LoginPolicy } from './ports.js';
export { ALLOW_ALL } from './ports.js';
export type { AccountPolicy } from './AccountPolicy.js';

/**
 * Mute and disable as the SendPolicy and LoginPolicy ports, answered from an in-memory copy of
 * moderation_account_blocks (start() reads it; invalidate(username) when a block changes anywhere).
 */
export function createAccountPolicy(db: Queryable, opts: { refreshMs: number; log?: Log }): AccountPolicy {
  return new AccountPolicy(new AccountBlocks(db), opts);
}
