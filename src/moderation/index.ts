import type { Queryable } from '../store/db.js';
import { AccountBlocks } from './AccountBlocks.js';
import { AccountPolicy } from './AccountPolicy.js';

// The moderation feature's public entry: its factory and its ports.
export { createModerationFeature, type ModerationFeatureDeps } from './createModerationFeature.js';
export type { SendPolicy, LoginPolicy } from './ports.js';
export { ALLOW_ALL } from './ports.js';

/** Mute and disable as the SendPolicy and LoginPolicy ports, answered from moderation_account_blocks. */
export function createAccountPolicy(db: Queryable): AccountPolicy {
  return new AccountPolicy(new AccountBlocks(db));
}
