import assert from 'node:assert/strict';
import { ofchatText } from '../../../src/http/body.js';

describe('ofchatText (message bodies read as text, both faces)', () => {
  it('takes a JSON object with a string body as that message, whatever the label', () => {
    assert.deepEqual(ofchatText('{"body":"hi","x":1}', false), {
      kind: 'json',
      value: { body: 'hi', x: 1 },
      raw: '{"body":"hi","x":1}',
    });
    assert.equal(ofchatText(' {"body":"hi"} ', true).kind, 'json');
  });

  it('sends anything else as the text it is: a word or encodeURIComponent(json) labelled JSON, JSON arrays', () => {
    const encoded = encodeURIComponent('{ "type" : "Text", "data" : "oi"}');
    assert.deepEqual(ofchatText(encoded, true), { kind: 'text', text: encoded });
    assert.deepEqual(ofchatText('Sim', true), { kind: 'text', text: 'Sim' });
    assert.deepEqual(ofchatText('[1,2]', true), { kind: 'text', text: '[1,2]' });
    assert.deepEqual(ofchatText('{not json}', true), { kind: 'text', text: '{not json}' });
  });

  it('keeps an object without a body as JSON only when labelled JSON (Parley’s own rules then apply)', () => {
    assert.equal(ofchatText('{"subject":"x"}', true).kind, 'json');
    assert.deepEqual(ofchatText('{"subject":"x"}', false), { kind: 'text', text: '{"subject":"x"}' });
  });
});
