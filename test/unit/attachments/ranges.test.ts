import assert from 'node:assert/strict';
import {
  contentDisposition,
  notModified,
  parseRange,
  rangeStillValid,
} from '../../../src/attachments/ranges.js';

describe('attachments/ranges', () => {
  it('parses a single bytes range, open-ended and suffix ranges', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-500', 100), { kind: 'partial', start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=50-5000', 100), { kind: 'partial', start: 50, end: 99 });
  });

  it('answers the whole file for no, malformed or multiple ranges, and unsatisfiable beyond the end', () => {
    assert.deepEqual(parseRange(undefined, 100), { kind: 'full' });
    assert.deepEqual(parseRange('bytes=0-1,5-6', 100), { kind: 'full' });
    assert.deepEqual(parseRange('items=0-1', 100), { kind: 'full' });
    assert.deepEqual(parseRange('bytes=9-3', 100), { kind: 'full' });
    assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  });

  it('matches If-None-Match lists, weak tags and *; If-Range only with our strong ETag', () => {
    assert.ok(notModified('"abc"', '"abc"'));
    assert.ok(notModified('"x", W/"abc"', '"abc"'));
    assert.ok(notModified('*', '"abc"'));
    assert.ok(!notModified('"x"', '"abc"'));
    assert.ok(!notModified(undefined, '"abc"'));
    assert.ok(rangeStillValid(undefined, '"abc"'));
    assert.ok(rangeStillValid('"abc"', '"abc"'));
    assert.ok(!rangeStillValid('Wed, 21 Oct 2015 07:28:00 GMT', '"abc"'));
  });

  it('writes RFC 6266 Content-Disposition with an ASCII fallback', () => {
    assert.equal(
      contentDisposition('inline', 'cat.png'),
      `inline; filename="cat.png"; filename*=UTF-8''cat.png`,
    );
    assert.equal(
      contentDisposition('attachment', 'Grüße "x".txt'),
      `attachment; filename="Gr__e _x_.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22x%22.txt`,
    );
  });
});
