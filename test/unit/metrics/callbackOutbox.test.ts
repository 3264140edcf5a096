import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createLogger } from '../../../src/log.js';
import { createOutboxProbe, outboxShape } from '../../../src/metrics/callbackOutbox.js';
import type { Queryable } from '../../../src/store/db.js';

/** The columns of callback_outbox as the callbacks migration creates them (read from the .sql file). */
function migrationColumns(): Set<string> | undefined {
  let sql: string;
  try {
    sql = readFileSync(new URL('../../../src/store/migrations/0006_bbb.sql', import.meta.url), 'utf8');
  } catch {
    return undefined;
  }
  const body = /CREATE TABLE callback_outbox \(([\s\S]*?)\n\);/.exec(sql)?.[1];
  return body ? new Set([...body.matchAll(/^\s+([a-z_]+)\s+[a-z]/gm)].map((m) => m[1]!)) : undefined;
}

describe('outboxShape', () => {
  it("understands the callbacks migration's table (status + timestamps) and requeues as its admin API does", function () {
    const columns = migrationColumns();
    if (!columns) this.skip();
    const shape = outboxShape(columns!)!;
    assert.ok(shape, `columns: ${[...columns!].join(', ')}`);
    assert.match(shape.dead, /status IN \('dead'/);
    assert.match(shape.dead, /dead_at IS NOT NULL/);
    assert.match(shape.pending, /^NOT \(/);
    assert.equal(shape.createdAt, 'created_at');
    assert.deepEqual(shape.requeue, [
      "status = 'pending'",
      'dead_at = NULL',
      'attempts = 0',
      'next_attempt_at = now()',
      'give_up_at = NULL',
    ]);
  });

  it('understands timestamps alone', () => {
    const shape = outboxShape(new Set(['id', 'url', 'created_at', 'delivered_at', 'failed_at']))!;
    assert.equal(shape.dead, 'coalesce(failed_at IS NOT NULL, false)');
    assert.equal(
      shape.pending,
      'NOT (coalesce(delivered_at IS NOT NULL, false) OR coalesce(failed_at IS NOT NULL, false))',
    );
    assert.deepEqual(shape.requeue, ['failed_at = NULL']);
  });

  it('gives up on a table without an id or any way to tell dead rows', () => {
    assert.equal(outboxShape(new Set(['url', 'status'])), undefined);
    assert.equal(outboxShape(new Set(['id', 'url', 'delivered_at'])), undefined);
  });
});

describe('createOutboxProbe', () => {
  const fake = (
    columns: string[],
    stats?: { depth: string; dead: string; age: string },
  ): Queryable & { sql: string[] } => {
    const sql: string[] = [];
    return {
      sql,
      query: (async (text: string) => {
        sql.push(text);
        if (text.includes('information_schema'))
          return { rows: columns.map((column_name) => ({ column_name })) };
        return { rows: [stats] };
      }) as unknown as Queryable['query'],
    };
  };
  const log = createLogger('silent');

  it('reads an absent table as an empty outbox, and looks again on the next scrape', async () => {
    const db = fake([]);
    const probe = createOutboxProbe(db, log);
    assert.deepEqual(await probe(), { depth: 0, oldestAgeSeconds: 0, dead: 0 });
    await probe();
    assert.equal(db.sql.length, 2);
  });

  it('counts pending and dead rows and the oldest pending age in one query', async () => {
    const db = fake(['id', 'status', 'created_at', 'dead_at'], { depth: '4', dead: '2', age: '12.5' });
    const probe = createOutboxProbe(db, log);
    assert.deepEqual(await probe(), { depth: 4, dead: 2, oldestAgeSeconds: 12.5 });
    assert.deepEqual(await probe(), { depth: 4, dead: 2, oldestAgeSeconds: 12.5 });
    assert.equal(db.sql.filter((s) => s.includes('information_schema')).length, 1, 'the shape is read once');
  });

  it('reads an unknown shape as unknown', async () => {
    assert.equal(await createOutboxProbe(fake(['id', 'payload']), log)(), undefined);
  });
});
