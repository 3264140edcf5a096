import assert from 'node:assert/strict';
import type { AccountBlocks, BlockKind } from '../../../src/moderation/AccountBlocks.js';
import { AccountPolicy } from '../../../src/moderation/AccountPolicy.js';

/** AccountBlocks.has over a map, counting the questions (each is one query in production). */
class FakeBlocks implements Pick<AccountBlocks, 'has'> {
  readonly blocks = new Map<string, Set<BlockKind>>();
  questions = 0;
  async has(username: string, ...kinds: BlockKind[]): Promise<boolean> {
    this.questions++;
    return kinds.some((k) => this.blocks.get(username)?.has(k));
  }
}

describe('AccountPolicy', () => {
  it('refuses sends of muted and disabled users with FORBIDDEN, in one question each', async () => {
    const blocks = new FakeBlocks();
    blocks.blocks.set('mo', new Set(['muted']));
    blocks.blocks.set('di', new Set(['disabled']));
    const policy = new AccountPolicy(blocks);
    await assert.rejects(policy.assertMaySend('mo'), { code: 'FORBIDDEN' });
    await assert.rejects(policy.assertMaySend('di'), { code: 'FORBIDDEN' });
    await policy.assertMaySend('ok');
    assert.equal(blocks.questions, 3);
  });

  it('refuses logins of disabled users only: a muted user may log in and read', async () => {
    const blocks = new FakeBlocks();
    blocks.blocks.set('mo', new Set(['muted']));
    blocks.blocks.set('di', new Set(['disabled']));
    const policy = new AccountPolicy(blocks);
    await policy.assertMayLogin('mo');
    await assert.rejects(policy.assertMayLogin('di'), { code: 'FORBIDDEN', status: 403 });
  });
});
