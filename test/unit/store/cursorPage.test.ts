import assert from 'node:assert/strict';
import { keysetPage, keysetSql, SqlArgs } from '../../../src/store/cursorPage.js';

describe('keysetSql', () => {
  it('walks back from the top without cursors, asking one row more than the limit', () => {
    const args = new SqlArgs(['alice']);
    const s = keysetSql('event_id', { limit: 10 }, args);
    assert.deepEqual(s, { where: [], orderLimit: 'ORDER BY event_id DESC LIMIT $2', forward: false });
    assert.deepEqual(args.values, ['alice', 11]);
  });

  it('walks forward from `after`, back from `before`, and picks per history when both are given', () => {
    const after = keysetSql('id', { after: '5', limit: 2 }, new SqlArgs());
    assert.equal(after.forward, true);
    assert.deepEqual(after.where, ['id > $1']);
    assert.match(after.orderLimit, /ASC LIMIT \$2$/);
    const both = { after: '5', before: '9', limit: 2 };
    assert.equal(keysetSql('id', both, new SqlArgs()).forward, false);
    assert.equal(keysetSql('id', both, new SqlArgs(), { forwardWhenBoth: true }).forward, true);
    assert.deepEqual(keysetSql('id', both, new SqlArgs()).where, ['id > $1', 'id < $2']);
  });
});

describe('keysetPage', () => {
  const ids = (n: number[]) => n.map((id) => ({ id }));
  const cursor = (r: { id: number }) => String(r.id);

  it('turns a backward read (newest first) into an oldest-first page with both cursors', () => {
    const p = keysetPage(ids([9, 8, 7]), { limit: 2 }, false, (r) => r, cursor);
    assert.deepEqual(p, { items: ids([8, 9]), hasMore: true, before: '8', after: '9' });
  });

  it('keeps a forward read in order and says when there is no more', () => {
    const p = keysetPage(ids([3, 4]), { limit: 2 }, true, (r) => r, cursor);
    assert.deepEqual(p, { items: ids([3, 4]), hasMore: false, before: '3', after: '4' });
  });

  it('lists newest first when asked, `before` still naming the oldest item', () => {
    const p = keysetPage(ids([9, 8, 7]), { limit: 2 }, false, (r) => r, cursor, 'newest-first');
    assert.deepEqual(p, { items: ids([9, 8]), hasMore: true, before: '8', after: '9' });
  });

  it('has null cursors on an empty page', () => {
    assert.deepEqual(
      keysetPage([], { limit: 5 }, false, (r) => r, cursor),
      {
        items: [],
        hasMore: false,
        before: null,
        after: null,
      },
    );
  });
});
