import assert from 'node:assert/strict';
import type pg from 'pg';
import { TimedDb } from '../../../src/store/TimedDb.js';

type Sent = { name?: string; text: string; values?: unknown[]; types?: pg.CustomTypesConfig };

/** Just enough of a pg pool: answers every query, fails the text 'fail', records what was sent. */
function fakePool() {
  const sent: Sent[] = [];
  let released = 0;
  const query = async (q: Sent) => {
    sent.push(q);
    if (q.text === 'fail') throw new Error('boom');
    return { rows: [{ ok: 1 }], rowCount: 1 };
  };
  const pool = { query, connect: async () => ({ query, on() {}, off() {}, release: () => void released++ }) };
  // The two methods TimedDb calls, nothing else of pg.Pool.
  return { pool: pool as unknown as pg.Pool, sent, released: () => released };
}

describe('TimedDb', () => {
  it('times each statement by the name the code gives it, prepared ones under a parley- name', async () => {
    const { pool, sent } = fakePool();
    const seen: string[] = [];
    const db = new TimedDb(pool, {
      statement: (name, seconds) => {
        assert.ok(seconds >= 0);
        seen.push(name);
      },
    });
    const res = await db.run({ name: 'message_insert', prepared: true, text: 'INSERT 1' }, [1]);
    assert.deepEqual(res.rows, [{ ok: 1 }]);
    await db.run({ name: 'unread', text: 'SELECT 2' });
    assert.deepEqual(seen, ['message_insert', 'unread']);
    assert.deepEqual(sent, [
      { name: 'parley-message_insert', text: 'INSERT 1', values: [1] },
      { text: 'SELECT 2', values: [] },
    ]);
  });

  it("passes a statement's own type parsers to node-postgres", async () => {
    const { pool, sent } = fakePool();
    const types: pg.CustomTypesConfig = { getTypeParser: () => (v: string) => v };
    await new TimedDb(pool).run({ name: 'page', text: 'SELECT 3', types });
    assert.deepEqual(sent, [{ text: 'SELECT 3', values: [], types }]);
  });

  it('counts a failed statement and leaves the failure to the caller', async () => {
    const { pool } = fakePool();
    const seen: string[] = [];
    const db = new TimedDb(pool, { statement: (name) => void seen.push(name) });
    await assert.rejects(db.run({ name: 'x', text: 'fail' }), /boom/);
    assert.deepEqual(seen, ['x']);
  });

  it('counts BEGIN and COMMIT as round trips, rolls back on failure and releases the client', async () => {
    const { pool, released } = fakePool();
    const seen: string[] = [];
    const db = new TimedDb(pool, { statement: (name) => void seen.push(name) });
    const n = await db.transaction(async (tx) => (await db.run({ name: 'a', text: 'A' }, [], tx)).rowCount);
    assert.equal(n, 1);
    await assert.rejects(
      db.transaction(async () => {
        throw new Error('undo');
      }),
      /undo/,
    );
    assert.deepEqual(seen, ['begin', 'a', 'commit', 'begin', 'rollback']);
    assert.equal(released(), 2);
  });
});
