import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { advertisesReporting, blockWithReport } from '../../../src/moderation/reportStanzas.js';

describe('moderation reportStanzas', () => {
  it("builds a XEP-0191 block carrying a XEP-0377 report with the messages' archive ids", () => {
    const iq = blockWithReport('alice@example.org', 'spam', 'ads', [
      { archiveId: 'a1', by: 'bob@example.org' },
    ]);
    const expected = xml(
      'iq',
      { type: 'set' },
      xml(
        'block',
        { xmlns: 'urn:xmpp:blocking' },
        xml(
          'item',
          { jid: 'alice@example.org' },
          xml(
            'report',
            { xmlns: 'urn:xmpp:reporting:1', reason: 'urn:xmpp:reporting:spam' },
            xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: 'bob@example.org', id: 'a1' }),
            xml('text', {}, 'ads'),
          ),
        ),
      ),
    );
    assert.equal(iq.toString(), expected.toString());
  });

  it('reports "other" as abuse and leaves out an empty text', () => {
    const report = blockWithReport('a@x', 'other', undefined, [])
      .getChild('block')!
      .getChild('item')!
      .getChild('report')!;
    assert.equal(report.attrs.reason, 'urn:xmpp:reporting:abuse');
    assert.equal(report.children.length, 0);
  });

  it('reads the XEP-0377 feature from disco#info', () => {
    const q = (...vars: string[]) => xml('query', {}, ...vars.map((v) => xml('feature', { var: v })));
    assert.equal(advertisesReporting(q('urn:xmpp:blocking', 'urn:xmpp:reporting:1')), true);
    assert.equal(advertisesReporting(q('urn:xmpp:blocking')), false);
    assert.equal(advertisesReporting(undefined), false);
  });
});
