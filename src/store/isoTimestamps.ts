import pg from 'pg';

const TIMESTAMPTZ_OID = 1184;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date;
/** PostgreSQL's ISO output of a UTC timestamptz, `YYYY-MM-DD HH:MM:SS[.ffffff]+00`. */
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/**
 * The ISO 8601 string (`toISOString()`) of a timestamptz as PostgreSQL prints it: the same string as
 * node-postgres's Date would give, milliseconds truncated. A UTC value (a server whose TimeZone is UTC) is
 * rearranged as text; any other offset, era or infinity goes through the Date as before.
 */
export function isoFromTimestamptz(text: string): string {
  const m = UTC_TEXT.exec(text);
  if (!m) return parseTimestamptz(text).toISOString();
  const ms = m[3] === undefined ? '000' : m[3].length >= 3 ? m[3].slice(0, 3) : m[3].padEnd(3, '0');
  return `${m[1]}T${m[2]}.${ms}Z`;
}

/**
 * Per-statement types for reads that only print their timestamps (history pages): timestamptz columns
 * arrive as ISO strings. node-postgres's Date parsing (regular expressions, then a Date per value) and the
 * toISOString after it took ~60 of the ~280 µs of gateway CPU a page of 50 messages cost, PostgreSQL's
 * answer replayed without network or server (bench/JOURNAL.md, "What limits each figure", item 7).
 */
export const ISO_TIMESTAMPS: pg.CustomTypesConfig = {
  // Typed by pg as pg-types' overloaded getTypeParser; what a query uses is the parser returned per OID.
  getTypeParser: ((oid: number, format?: string) =>
    oid === TIMESTAMPTZ_OID && format !== 'binary'
      ? isoFromTimestamptz
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};
