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

  it('answers the whole file for no, malformed or multiple ranges, and 416 for ranges it cannot satisfy', () => {
    assert.deepEqual(parseRange(undefined, 100), { kind: 'full' });
    assert.deepEqual(parseRange('bytes=0-1,5-6', 100), { kind: 'full' });
    assert.deepEqual(
      parseRange('bytes=0-4,5-9', 100),
      { kind: 'partial', start: 0, end: 9 },
      'adjacent: combined',
    );
    assert.deepEqual(parseRange('items=0-1', 100), { kind: 'full' });
    assert.deepEqual(parseRange('bytes=a-b', 100), { kind: 'full' });
    assert.deepEqual(parseRange('bytes=9-3', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-5', 0), { kind: 'unsatisfiable' });
  });

  it('revalidates by If-None-Match (lists, weak tags, *), else If-Modified-Since; If-Range only with our strong ETag', () => {
    const v = { etag: '"abc"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' };
    assert.ok(notModified({ 'if-none-match': '"abc"' }, v));
    assert.ok(notModified({ 'if-none-match': '"x", W/"abc"' }, v));
    assert.ok(notModified({ 'if-none-match': '*' }, v));
    assert.ok(!notModified({ 'if-none-match': '"x"' }, v));
    assert.ok(!notModified({}, v));
    assert.ok(notModified({ 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' }, v));
    assert.ok(!notModified({ 'if-modified-since': 'Tue, 20 Oct 2015 07:28:00 GMT' }, v));
    assert.ok(
      notModified({ 'if-none-match': '"abc"', 'cache-control': 'no-cache' }, v),
      'as fetch() sends it',
    );
    assert.ok(rangeStillValid(undefined, '"abc"'));
    assert.ok(rangeStillValid('"abc"', '"abc"'));
    assert.ok(!rangeStillValid('Wed, 21 Oct 2015 07:28:00 GMT', '"abc"'));
  });

  it('writes RFC 6266 Content-Disposition with an ISO-8859-1 fallback beside the UTF-8 name', () => {
    assert.equal(contentDisposition('inline', 'cat picture.png'), 'inline; filename="cat picture.png"');
    assert.equal(
      contentDisposition('attachment', 'Grüße "x".txt'),
      `attachment; filename="Grüße \\"x\\".txt"`,
    );
    assert.equal(
      contentDisposition('attachment', 'снимок.png'),
      `attachment; filename="??????.png"; filename*=UTF-8''%D1%81%D0%BD%D0%B8%D0%BC%D0%BE%D0%BA.png`,
    );
  });
});
