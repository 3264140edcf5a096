import assert from 'node:assert/strict';
import type { AccountBlocks, BlockKind } from '../../../src/moderation/AccountBlocks.js';
import { AccountPolicy } from '../../../src/moderation/AccountPolicy.js';

/**
 * AccountBlocks over a map, counting the questions (each is one query in production). `hold()` makes the
 * next whole-table read wait until released, with the table as it was when the read began.
 */
class FakeBlocks implements Pick<AccountBlocks, 'has' | 'all'> {
  readonly blocks = new Map<string, Set<BlockKind>>();
  questions = 0;
  reads = 0;
  failing = false;
  #held: { release: () => void; gate: Promise<void> } | undefined;
  async has(username: string, ...kinds: BlockKind[]): Promise<boolean> {
    this.questions++;
    return kinds.some((k) => this.blocks.get(username)?.has(k));
  }
  async all(): Promise<Array<{ username: string; kind: BlockKind }>> {
    this.reads++;
    if (this.failing) throw new Error('database down');
    const rows = [...this.blocks].flatMap(([username, kinds]) =>
      [...kinds].map((kind) => ({ username, kind })),
    );
    const held = this.#held;
    this.#held = undefined;
    if (held) await held.gate;
    return rows;
  }
  set(username: string, ...kinds: BlockKind[]): void {
    this.blocks.set(username, new Set(kinds));
  }
  hold(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    this.#held = { release, gate };
    return release;
  }
}

const HOUR = 3_600_000;

describe('AccountPolicy', () => {
  let policy: AccountPolicy | undefined;
  afterEach(() => policy?.stop());

  it('refuses sends of muted and disabled users with FORBIDDEN, from memory once read', async () => {
    const blocks = new FakeBlocks();
    blocks.set('mo', 'muted');
    blocks.set('di', 'disabled');
    policy = new AccountPolicy(blocks, { refreshMs: HOUR });
    await policy.start();
    await assert.rejects(policy.assertMaySend('mo'), { code: 'FORBIDDEN' });
    await assert.rejects(policy.assertMaySend('di'), { code: 'FORBIDDEN' });
    for (let i = 0; i < 10; i++) await policy.assertMaySend('ok');
    assert.equal(blocks.questions, 0, 'no per-send question');
    assert.equal(blocks.reads, 1);
  });

  it('refuses logins of disabled users only: a muted user may log in and read', async () => {
    const blocks = new FakeBlocks();
    blocks.set('mo', 'muted');
    blocks.set('di', 'disabled');
    policy = new AccountPolicy(blocks, { refreshMs: HOUR });
    await policy.start();
    await policy.assertMayLogin('mo');
    await assert.rejects(policy.assertMayLogin('di'), { code: 'FORBIDDEN', status: 403 });
  });

  it('asks the database per question until the first read succeeds', async () => {
    const blocks = new FakeBlocks();
    blocks.set('mo', 'muted');
    blocks.failing = true;
    policy = new AccountPolicy(blocks, { refreshMs: HOUR });
    await policy.start();
    await assert.rejects(policy.assertMaySend('mo'), { code: 'FORBIDDEN' });
    await policy.assertMaySend('ok');
    assert.equal(blocks.questions, 2);
    blocks.failing = false;
    await policy.refresh();
    await policy.assertMaySend('ok');
    assert.equal(blocks.questions, 2);
  });

  it('an invalidated user is asked of the database at once, until a newer read lands', async () => {
    const blocks = new FakeBlocks();
    policy = new AccountPolicy(blocks, { refreshMs: HOUR });
    await policy.start();
    await policy.assertMaySend('al');

    blocks.set('al', 'muted'); // committed elsewhere, then the bus says so
    const release = blocks.hold();
    policy.invalidate('al');
    await assert.rejects(policy.assertMaySend('al'), { code: 'FORBIDDEN' }, 'not the stale memory');
    assert.equal(blocks.questions, 1);
    release();
    await policy.refresh();
    await assert.rejects(policy.assertMaySend('al'), { code: 'FORBIDDEN' });
    assert.equal(blocks.questions, 1, 'memory again once the reload landed');

    blocks.blocks.delete('al');
    policy.invalidate('al');
    await policy.assertMaySend('al');
    await policy.refresh();
    await policy.assertMaySend('al');
  });

  it('drops a read that overlapped an invalidation (it may predate the change) and reads again', async () => {
    const blocks = new FakeBlocks();
    policy = new AccountPolicy(blocks, { refreshMs: HOUR });
    await policy.start();
    const release = blocks.hold();
    const periodic = policy.refresh(); // reads the table before the mute
    blocks.set('al', 'muted');
    policy.invalidate('al');
    release();
    await periodic;
    assert.equal(blocks.reads, 3, 'the overlapping read was read again');
    await assert.rejects(policy.assertMaySend('al'), { code: 'FORBIDDEN' });
    assert.equal(blocks.questions, 0, 'answered from the newer snapshot');
  });

  it('the periodic refresh picks up a change whose invalidation never came', async () => {
    const blocks = new FakeBlocks();
    policy = new AccountPolicy(blocks, { refreshMs: 20 });
    await policy.start();
    await policy.assertMaySend('al');
    blocks.set('al', 'disabled'); // a lost bus message: nobody calls invalidate
    await policy.refreshed();
    await assert.rejects(policy.assertMayLogin('al'), { code: 'FORBIDDEN' });
    assert.equal(blocks.questions, 0);
  });
});
