import assert from 'node:assert/strict';
import pg from 'pg';
import { ISO_TIMESTAMPS, isoFromTimestamptz } from '../../../src/store/isoTimestamps.js';

/** What history answered before: node-postgres's Date, printed. */
const viaDate = (text: string): string => (pg.types.getTypeParser(1184, 'text')(text) as Date).toISOString();

describe('isoFromTimestamptz', () => {
  it('prints a UTC timestamptz as its Date would, milliseconds truncated, for every fraction length', () => {
    for (const fraction of ['', '.5', '.05', '.123', '.1239', '.99999', '.000999', '.999999', '.100000'])
      for (const base of [
        '2026-12-07 06:59:53',
        '0001-01-01 00:00:00',
        '1969-12-31 23:59:59',
        '9999-12-31 23:59:59',
      ]) {
        const text = `${base}${fraction}+00`;
        assert.equal(isoFromTimestamptz(text), viaDate(text), text);
      }
  });

  it('agrees with the Date on every millisecond and sub-millisecond pattern', () => {
    for (let ms = 0; ms < 1000; ms++)
      for (const micro of ['000', '001', '499', '500', '999']) {
        const text = `2026-12-07 06:59:53.${String(ms).padStart(3, '0')}${micro}+00`;
        assert.equal(isoFromTimestamptz(text), viaDate(text), text);
      }
  });

  it('takes other offsets, BC years and years past 9999 through the Date', () => {
    for (const text of [
      '2026-12-07 12:29:53.123456+05:30',
      '2026-12-07 03:29:53.5-03:30',
      '1883-11-18 12:00:00-04:56:02',
      '2026-12-07 06:59:53+01',
      '0044-03-15 12:00:00+00 BC',
      '12026-12-07 06:59:53+00',
    ])
      assert.equal(isoFromTimestamptz(text), viaDate(text), text);
  });

  it('fails on infinity as printing its Date did', () => {
    assert.throws(() => isoFromTimestamptz('infinity'), TypeError);
  });
});

describe('ISO_TIMESTAMPS', () => {
  it('parses timestamptz text to ISO strings and leaves every other type to node-postgres', () => {
    assert.equal(
      ISO_TIMESTAMPS.getTypeParser(1184, 'text')('2026-12-07 06:59:53.1+00'),
      '2026-12-07T06:59:53.100Z',
    );
    for (const oid of [20, 25, 114, 1082, 1114, 3802])
      assert.equal(
        ISO_TIMESTAMPS.getTypeParser(oid, 'text'),
        pg.types.getTypeParser(oid, 'text'),
        `oid ${oid}`,
      );
  });
});
