import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { ComponentEntity } from '../../../../src/xmpp/component/ComponentEntity.js';

describe('ComponentEntity (XEP-0114 stream)', () => {
  const entity = () => new ComponentEntity({ service: 'xmpp://127.0.0.1', domain: 'wg.example.org' });

  it('connects over plain TCP to the component port (5347 unless given), and only for xmpp: URIs', () => {
    assert.deepEqual(entity().socketParameters('xmpp://127.0.0.1'), { port: 5347, host: '127.0.0.1' });
    assert.deepEqual(entity().socketParameters('xmpp://[::1]:5275'), { port: 5275, host: '::1' });
    assert.equal(entity().socketParameters('wss://example.org/ws'), undefined);
  });

  it('opens a jabber:component:accept stream', () => {
    const e = entity();
    const header = e.headerElement();
    header.attrs.to = 'wg.example.org';
    assert.equal(
      e.header(header),
      `<?xml version='1.0'?><stream:stream version="1.0" xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams" to="wg.example.org">`,
    );
    assert.equal(e.footer(), '</stream:stream>');
    assert.ok(e.isStanza(xml('iq')) && !e.isStanza(xml('handshake')));
  });
});
