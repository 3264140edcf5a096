import assert from 'node:assert/strict';
import {
  buildRosterRemove,
  buildRosterSet,
  parseRosterQuery,
  toContact,
} from '../../../src/contacts/roster.js';
import { parseXml } from '../../../src/raw/parseStanza.js';

describe('roster mappers', () => {
  it("reads items with name, groups, subscription and ask, folding the JID's case", () => {
    const q = parseXml(`<query xmlns="jabber:iq:roster">
      <item jid="Bob@Example.org" name="Bob" subscription="both"><group>Favorites</group><group>Favorites</group><group>Team</group></item>
      <item jid="carol@example.org" ask="subscribe"/>
      <item name="no jid"/>
      <item jid="dave@example.org" subscription="bogus"/>
    </query>`);
    assert.deepEqual(parseRosterQuery(q), [
      {
        jid: 'bob@example.org',
        name: 'Bob',
        subscription: 'both',
        pending: false,
        groups: ['Favorites', 'Team'],
      },
      { jid: 'carol@example.org', subscription: 'none', pending: true, groups: [] },
      { jid: 'dave@example.org', subscription: 'none', pending: false, groups: [] },
    ]);
  });

  it("shows an item as ofchat's RosterItemEntity plus subscription, pending and live presence", () => {
    const item = {
      jid: 'bob@example.org',
      name: 'Bob',
      subscription: 'from' as const,
      pending: false,
      groups: ['Team'],
    };
    assert.deepEqual(toContact(item, { show: 'dnd', status: 'busy' }), {
      jid: 'bob@example.org',
      nickname: 'Bob',
      groups: ['Team'],
      subscription: 'from',
      subscriptionType: 2,
      pending: false,
      show: 'dnd',
      status: 'busy',
    });
    assert.equal(
      toContact({ ...item, subscription: 'remove' }, { show: 'offline', status: null }).subscriptionType,
      -1,
    );
  });

  it('builds roster sets (RFC 6121 §2.3, §2.5)', () => {
    assert.equal(
      buildRosterSet('bob@example.org', 'Bob & co', ['Favorites']).toString(),
      '<iq type="set"><query xmlns="jabber:iq:roster"><item jid="bob@example.org" name="Bob &amp; co"><group>Favorites</group></item></query></iq>',
    );
    assert.equal(
      buildRosterRemove('bob@example.org').toString(),
      '<iq type="set"><query xmlns="jabber:iq:roster"><item jid="bob@example.org" subscription="remove"/></query></iq>',
    );
  });
});
