import assert from 'node:assert/strict';
import { csvField, toCsv } from '../../../src/moderation/csv.js';

describe('moderation csv', () => {
  it('quotes every field, doubles quotes and keeps newlines inside the quotes', () => {
    assert.equal(csvField('say "hi",\nthen go'), '"say ""hi"",\nthen go"');
    assert.equal(csvField(null), '""');
    assert.equal(csvField({ a: 1 }), '"{""a"":1}"');
    assert.equal(csvField(false), '"false"');
  });

  it('defuses fields a spreadsheet would run as formulas', () => {
    for (const f of ['=1+1', '+cmd', '-2', '@SUM(A1)']) assert.equal(csvField(f), `"'${f}"`);
  });

  it('writes a header and CRLF-terminated rows in column order', () => {
    assert.equal(toCsv(['id', 'body'], [{ body: 'x', id: '1' }]), '"id","body"\r\n"1","x"\r\n');
  });
});
