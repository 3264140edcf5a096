import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { classifyQuery, instrumentPool } from '../../../src/metrics/instrumentPool.js';
import type { StoreOperation } from '../../../src/metrics/Metrics.js';

/** The SQL of the stores whose latency matters, read from their source so a rewrite cannot silently drop out. */
const sqlIn = (file: string, start: string): string => {
  const src = readFileSync(new URL(`../../../src/${file}`, import.meta.url), 'utf8');
  const at = src.indexOf(start);
  assert.ok(at >= 0, `${file} no longer has "${start}"`);
  return src.slice(at);
};

describe('classifyQuery', () => {
  it('recognises the event insert, the message insert and the replay page of the stores', () => {
    assert.equal(classifyQuery(sqlIn('sse/EventStore.ts', 'INSERT INTO events')), 'event_insert');
    assert.equal(classifyQuery(sqlIn('chat/messageInsert.ts', 'WITH ev AS')), 'message_insert');
    assert.equal(classifyQuery(sqlIn('chat/MessageStore.ts', 'WITH o AS')), 'event_insert');
    assert.equal(
      classifyQuery(
        sqlIn(
          'sse/EventStore.ts',
          'SELECT id, name, payload, created_at FROM events WHERE username = $1 AND id > $2',
        ),
      ),
      'event_replay',
    );
    assert.equal(classifyQuery('\n   insert into messages (owner) values ($1)'), 'message_insert');
  });

  it('ignores everything else', () => {
    for (const sql of [
      'SELECT 1',
      'BEGIN',
      'SELECT max(id) AS id FROM events WHERE username = $1',
      'UPDATE messages SET event_id = $2 WHERE id = $1',
      'INSERT INTO events_archive VALUES (1)',
    ]) {
      assert.equal(classifyQuery(sql), undefined, sql);
    }
  });
});

describe('instrumentPool', () => {
  class FakeClient {
    query(
      text: string,
      values?: unknown,
      cb?: (err: Error | null, res?: unknown) => void,
    ): Promise<unknown> | undefined {
      if (typeof values === 'function') {
        cb = values as typeof cb;
      }
      if (cb) {
        setImmediate(() => cb!(null, { text }));
        return undefined;
      }
      return text === 'fail' ? Promise.reject(new Error('boom')) : Promise.resolve({ text });
    }
  }
  const setup = () => {
    const pool = new EventEmitter();
    const seen: StoreOperation[] = [];
    instrumentPool(pool as unknown as pg.Pool, {
      query: (op, seconds) => {
        assert.ok(seconds >= 0);
        seen.push(op);
      },
    });
    const client = new FakeClient();
    pool.emit('connect', client);
    return { client, seen };
  };

  it("times promise and callback queries and hands back the driver's own results", async () => {
    const { client, seen } = setup();
    assert.deepEqual(await client.query('INSERT INTO events (username) VALUES ($1)', ['a']), {
      text: 'INSERT INTO events (username) VALUES ($1)',
    });
    const viaCallback = await new Promise((resolve) =>
      client.query('INSERT INTO messages (owner) VALUES ($1)', ['a'], (_err, res) => resolve(res)),
    );
    assert.deepEqual(viaCallback, { text: 'INSERT INTO messages (owner) VALUES ($1)' });
    await client.query('SELECT 1');
    assert.deepEqual(seen, ['event_insert', 'message_insert']);
  });

  it('leaves failures to the caller', async () => {
    const { client } = setup();
    await assert.rejects(client.query('fail') as Promise<unknown>, /boom/);
  });
});
