import assert from 'node:assert/strict';
import { GroupCommit } from '../../../src/messages/GroupCommit.js';

/** A fake store that records each statement and lets the test decide when it answers. */
class FakeStatements {
  readonly batches: number[][] = [];
  readonly singles: number[] = [];
  readonly open: (() => void)[] = [];
  held = false;
  bad = new Set<number>();
  #gate(): Promise<void> {
    return this.held ? new Promise((r) => this.open.push(r)) : Promise.resolve();
  }
  writeBatch = async (items: readonly number[]): Promise<string[]> => {
    this.batches.push([...items]);
    await this.#gate();
    if (items.some((i) => this.bad.has(i))) throw new Error('bad row in batch');
    return items.map((i) => `r${i}`);
  };
  writeOne = async (item: number): Promise<string> => {
    this.singles.push(item);
    await this.#gate();
    if (this.bad.has(item)) throw new Error(`bad row ${item}`);
    return `r${item}`;
  };
  release(): void {
    for (const r of this.open.splice(0)) r();
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('writes a lone item alone, with the single-row write', async () => {
    const s = new FakeStatements();
    const g = new GroupCommit(s);
    assert.equal(await g.add(1), 'r1');
    assert.deepEqual(s.singles, [1]);
    assert.deepEqual(s.batches, []);
  });

  it('groups what arrives in the same turn into one statement, each caller with its own result', async () => {
    const s = new FakeStatements();
    const g = new GroupCommit(s);
    const out = await Promise.all([1, 2, 3, 4, 5].map((i) => g.add(i)));
    assert.deepEqual(out, ['r1', 'r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(s.batches, [[1, 2, 3, 4, 5]]);
    assert.deepEqual(s.singles, []);
  });

  it('collects what arrives while batches are in flight and sends it when one comes back', async () => {
    const s = new FakeStatements();
    s.held = true;
    const g = new GroupCommit({ writeBatch: s.writeBatch, writeOne: s.writeOne, maxInFlight: 1 });
    const first = g.add(1);
    await tick();
    assert.deepEqual(s.singles, [1], 'the first went out at once');
    const later = [2, 3, 4].map((i) => g.add(i));
    await tick();
    await tick();
    assert.deepEqual(s.batches, [], 'the others wait while the statement is out');
    s.release();
    assert.equal(await first, 'r1');
    await tick();
    assert.deepEqual(s.batches, [[2, 3, 4]]);
    s.release();
    assert.deepEqual(await Promise.all(later), ['r2', 'r3', 'r4']);
  });

  it('says when every batch allowed is out, and stops saying so once one comes back', async () => {
    const s = new FakeStatements();
    s.held = true;
    const g = new GroupCommit({ writeBatch: s.writeBatch, writeOne: s.writeOne, maxInFlight: 2 });
    assert.equal(g.saturated, false);
    const one = g.add(1);
    await tick();
    assert.equal(g.saturated, false, 'one of two out');
    const two = g.add(2);
    await tick();
    assert.equal(g.saturated, true, 'two of two out');
    s.release();
    await Promise.all([one, two]);
    assert.equal(g.saturated, false);
  });

  describe('gatherMs', () => {
    /** a clock the test moves; timers stay real (the wait is a few ms) */
    const clock = () => {
      let t = 0;
      return { now: () => t, set: (ms: number) => (t = ms) };
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('waits for nothing while writes come less often than one per gatherMs', async () => {
      const s = new FakeStatements();
      const c = clock();
      const g = new GroupCommit({ writeBatch: s.writeBatch, writeOne: s.writeOne, gatherMs: 20, now: c.now });
      // 4 writes in a 100 ms window: one per 25 ms, fewer than one per 20 ms
      for (let i = 0; i < 4; i++) {
        c.set(i * 25);
        await g.add(i);
      }
      c.set(100);
      const lone = g.add(9);
      await tick();
      assert.deepEqual(s.singles, [0, 1, 2, 3, 9], 'each went out at the end of its turn');
      await lone;
    });

    it('while writes come faster, the first of a statement waits gatherMs for the ones after it', async () => {
      const s = new FakeStatements();
      const c = clock();
      const g = new GroupCommit({ writeBatch: s.writeBatch, writeOne: s.writeOne, gatherMs: 20, now: c.now });
      // 6 writes in the first 100 ms window (one per ~17 ms): the next window counts as busy
      await Promise.all([0, 1, 2, 3, 4, 5].map((i) => (c.set(i * 16), g.add(i))));
      c.set(100);
      const first = g.add(10);
      await tick();
      assert.deepEqual(s.batches.length + s.singles.length, 1, 'the first waits');
      c.set(105);
      const second = g.add(11);
      await sleep(40);
      assert.deepEqual(await Promise.all([first, second]), ['r10', 'r11']);
      assert.deepEqual(s.batches.at(-1), [10, 11], 'both in one statement');
    });

    it('ends the busy spell after a window without writes', async () => {
      const s = new FakeStatements();
      const c = clock();
      const g = new GroupCommit({ writeBatch: s.writeBatch, writeOne: s.writeOne, gatherMs: 20, now: c.now });
      await Promise.all([0, 1, 2, 3, 4, 5].map((i) => (c.set(i * 16), g.add(i))));
      c.set(350); // more than a whole window later
      const lone = g.add(9);
      await tick();
      assert.deepEqual(s.singles, [9], 'it went out at once');
      await lone;
    });
  });

  it('keeps to maxBatch per statement, in arrival order', async () => {
    const s = new FakeStatements();
    const g = new GroupCommit({
      writeBatch: s.writeBatch,
      writeOne: s.writeOne,
      maxBatch: 2,
      maxInFlight: 8,
    });
    await Promise.all([1, 2, 3, 4, 5].map((i) => g.add(i)));
    assert.deepEqual(s.batches, [
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(s.singles, [5]);
  });

  it('retries a failed batch row by row: only the bad row fails', async () => {
    const s = new FakeStatements();
    s.bad.add(2);
    const g = new GroupCommit(s);
    const out = await Promise.allSettled([1, 2, 3].map((i) => g.add(i)));
    assert.deepEqual(s.batches, [[1, 2, 3]]);
    assert.deepEqual(s.singles, [1, 2, 3]);
    assert.deepEqual(
      out.map((o) => (o.status === 'fulfilled' ? o.value : 'failed')),
      ['r1', 'failed', 'r3'],
    );
  });

  it('retries one row at a time, in arrival order (ids are drawn in that order)', async () => {
    const s = new FakeStatements();
    s.held = true;
    s.bad.add(2);
    const g = new GroupCommit(s);
    const all = Promise.allSettled([1, 2, 3].map((i) => g.add(i)));
    await tick();
    s.release(); // the batch fails
    await tick();
    assert.deepEqual(s.singles, [1], 'the second waits for the first');
    for (let i = 0; i < 3; i++) {
      s.release();
      await tick();
    }
    assert.deepEqual(s.singles, [1, 2, 3]);
    assert.deepEqual(
      (await all).map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
  });

  it('never puts two items of one key in a batch, nor sends one while its key is in flight', async () => {
    const s = new FakeStatements();
    s.held = true;
    const g = new GroupCommit({
      writeBatch: s.writeBatch,
      writeOne: s.writeOne,
      maxInFlight: 4,
      key: (i: number) => String(i % 10), // 1 and 11 share a key
    });
    const all = [1, 2, 11, 3].map((i) => g.add(i));
    await tick();
    assert.deepEqual(s.batches, [[1, 2, 3]], '11 waits although statements are free');
    assert.deepEqual(s.singles, []);
    s.release();
    await tick();
    assert.deepEqual(s.singles, [11], 'sent once its key came back');
    s.release();
    assert.deepEqual(await Promise.all(all), ['r1', 'r2', 'r11', 'r3']);
  });

  it('keeps one order key to one batch in flight: the rest of that key waits, together, in order', async () => {
    const s = new FakeStatements();
    s.held = true;
    const g = new GroupCommit({
      writeBatch: s.writeBatch,
      writeOne: s.writeOne,
      maxInFlight: 4,
      orderKey: (i: number) => (i >= 100 ? undefined : String(i % 10)), // 1, 11, 21 share a key
    });
    const first = [1, 11, 2].map((i) => g.add(i));
    await tick();
    assert.deepEqual(s.batches, [[1, 11, 2]], 'one key may share a batch, in order');
    const later = [21, 3, 31, 100].map((i) => g.add(i));
    await tick();
    assert.deepEqual(s.batches[1], [3, 100], '21 and 31 wait for the batch holding their key');
    s.release();
    await tick();
    assert.deepEqual(s.batches[2], [21, 31], 'then go out together, in the order they came');
    s.release();
    assert.deepEqual(await Promise.all([...first, ...later]), [
      'r1',
      'r11',
      'r2',
      'r21',
      'r3',
      'r31',
      'r100',
    ]);
  });

  it('does not let a later item of an order key overtake one held back by a full batch', async () => {
    const s = new FakeStatements();
    s.held = true;
    const g = new GroupCommit({
      writeBatch: s.writeBatch,
      writeOne: s.writeOne,
      maxInFlight: 1,
      maxBatch: 2,
      orderKey: (i: number) => String(i % 10),
    });
    const all = [1, 2, 11, 3, 21].map((i) => g.add(i));
    await tick();
    assert.deepEqual(s.batches, [[1, 2]]);
    s.release();
    await tick();
    assert.deepEqual(s.batches[1], [11, 3], '11 goes first; 21 waits for its key');
    s.release();
    await tick();
    assert.deepEqual(s.singles, [21]);
    s.release();
    assert.deepEqual(await Promise.all(all), ['r1', 'r2', 'r11', 'r3', 'r21']);
  });

  it('treats a batch answering the wrong number of results as failed', async () => {
    const s = new FakeStatements();
    const g = new GroupCommit({ writeBatch: async () => ['only one'], writeOne: s.writeOne });
    assert.deepEqual(await Promise.all([1, 2].map((i) => g.add(i))), ['r1', 'r2']);
    assert.deepEqual(s.singles, [1, 2]);
  });
});
