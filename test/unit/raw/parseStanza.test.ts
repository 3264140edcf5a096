import assert from 'node:assert/strict';
import { parseStanza } from '../../../src/raw/parseStanza.js';
import { BridgeError } from '../../../src/errors/BridgeError.js';

describe('parseStanza', () => {
  it('accepts one message, presence or iq, with or without the client namespace and an XML declaration', () => {
    assert.equal(
      parseStanza(
        '<?xml version="1.0"?>\n<message to="bob@example.org"><body>a &lt; b</body></message>\n',
      ).getChildText('body'),
      'a < b',
    );
    assert.equal(parseStanza('<presence xmlns="jabber:client"/>').name, 'presence');
    assert.equal(parseStanza('<iq type="get"><ping xmlns="urn:xmpp:ping"/></iq>').name, 'iq');
  });

  const bad: [string, string][] = [
    ['<message><body>x</message>', 'mismatched closing tag'],
    ['<message>', 'unclosed element'],
    ['<message/><message/>', 'two stanzas'],
    ['<message/></message>', 'a stray closing tag'],
    ['hello <message/>', 'text before'],
    ['<message/> trailing', 'text after'],
    ['<message><body>&nope;</body></message>', 'an unknown entity'],
    ['<stream:features xmlns:stream="http://etherx.jabber.org/streams"/>', 'not a stanza'],
    ['<message xmlns="jabber:server"/>', 'a server namespace'],
    ['<iq type="get"/>', 'an iq get without a child'],
    ['<iq type="set"><a/><b/></iq>', 'an iq set with two children'],
    ['<iq><ping xmlns="urn:xmpp:ping"/></iq>', 'an iq without a type'],
  ];
  for (const [xml, why] of bad) {
    it(`refuses ${why} with INVALID_STANZA`, () => {
      assert.throws(
        () => parseStanza(xml),
        (e: unknown) => e instanceof BridgeError && e.code === 'INVALID_STANZA',
      );
    });
  }
});
