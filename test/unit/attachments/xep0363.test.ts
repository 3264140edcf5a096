import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { readSlot, slotRequest } from '../../../src/attachments/xep0363.js';
import { NS } from '../../../src/xmpp/ns.js';

const slot = (put: string, get: string, ...headers: [string, string][]) =>
  xml(
    'iq',
    { type: 'result' },
    xml(
      'slot',
      { xmlns: NS.upload },
      xml('put', { url: put }, ...headers.map(([n, v]) => xml('header', { name: n }, v))),
      xml('get', { url: get }),
    ),
  );

describe('attachments/xep0363', () => {
  it('builds the slot request', () => {
    assert.equal(
      slotRequest('upload.example.org', {
        filename: 'a b.png',
        size: 12,
        contentType: 'image/png',
      }).toString(),
      `<iq type="get" to="upload.example.org"><request xmlns="${NS.upload}" filename="a b.png" size="12" content-type="image/png"/></iq>`,
    );
  });

  it('reads the slot, passing on only the headers §5 allows, without line breaks', () => {
    const s = readSlot(
      slot(
        'https://up.example/p/1',
        'https://up.example/g/1',
        ['Authorization', 'Basic x\r\nX-Injected: 1'],
        ['Cookie', 'c=1'],
        ['Host', 'evil'],
      ),
    );
    assert.deepEqual(s, {
      put: 'https://up.example/p/1',
      get: 'https://up.example/g/1',
      headers: { Authorization: 'Basic xX-Injected: 1', Cookie: 'c=1' },
    });
  });

  it('refuses slots without https URLs (plain http only on loopback)', () => {
    assert.throws(() => readSlot(slot('http://up.example/p', 'https://up.example/g')), /usable slot URLs/);
    assert.throws(() => readSlot(xml('iq', { type: 'result' })), /usable slot URLs/);
    assert.doesNotThrow(() => readSlot(slot('http://127.0.0.1:8080/p', 'http://127.0.0.1:8080/g')));
  });
});
