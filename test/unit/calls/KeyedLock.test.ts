import assert from 'node:assert/strict';
import { KeyedLock } from '../../../src/calls/KeyedLock.js';

describe('KeyedLock', () => {
  it('runs tasks of one key in order and tasks of other keys alongside', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.all([
      lock.run('a', async () => {
        await wait(20);
        log.push('a1');
      }),
      lock.run('a', async () => {
        log.push('a2');
      }),
      lock.run('b', async () => {
        log.push('b1');
      }),
    ]);
    assert.deepEqual(log, ['b1', 'a1', 'a2']);
  });
  it('keeps going after a failed task and forgets idle keys', async () => {
    const lock = new KeyedLock();
    await assert.rejects(
      lock.run('k', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await lock.run('k', async () => 42), 42);
    await new Promise((r) => setImmediate(r));
    assert.equal(lock.size, 0);
  });
});
