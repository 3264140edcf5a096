import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { fromPepItem, fromStorage, toPepItem, withConference } from '../../../src/bookmarks/formats.js';

const JID = 'team@conference.example.org';
const bookmark = { jid: JID, name: 'Team', autojoin: true, nick: 'Ally', password: 'pw' };

describe('bookmark formats', () => {
  it('round-trips a XEP-0402 item', () => {
    const item = toPepItem(bookmark);
    assert.equal(item.attrs.id, JID);
    assert.equal(item.getChild('conference', 'urn:xmpp:bookmarks:1')?.attrs.autojoin, 'true');
    assert.deepEqual(fromPepItem(item), bookmark);
    assert.equal(fromPepItem(xml('item', { id: JID }, xml('other', { xmlns: 'x' }))), undefined);
  });

  it('reads XEP-0048 conferences, case-folding the room and taking "1" for true', () => {
    const storage = xml(
      'storage',
      { xmlns: 'storage:bookmarks' },
      xml('conference', { jid: 'Team@Conference.example.org', autojoin: '1' }, xml('nick', {}, 'A')),
      xml('conference', { name: 'no jid' }),
    );
    assert.deepEqual(fromStorage(storage), [
      { jid: JID, name: null, autojoin: true, nick: 'A', password: null },
    ]);
    assert.deepEqual(fromStorage(undefined), []);
  });

  it('rewrites the XEP-0048 document keeping URL bookmarks, other rooms and unknown extensions', () => {
    const storage = xml(
      'storage',
      { xmlns: 'storage:bookmarks' },
      xml('url', { name: 'Docs', url: 'https://example.org/docs' }),
      xml('conference', { jid: 'other@conference.example.org', autojoin: 'false' }),
      xml('conference', { jid: JID, name: 'Old' }),
      xml('extension', { xmlns: 'urn:example:client' }),
    );
    const next = withConference(storage, JID, bookmark);
    assert.equal(next.getChild('url')?.attrs.url, 'https://example.org/docs');
    assert.ok(next.getChild('extension', 'urn:example:client'));
    assert.deepEqual(
      fromStorage(next).map((b) => [b.jid, b.name]),
      [
        ['other@conference.example.org', null],
        [JID, 'Team'],
      ],
    );
    const removed = withConference(next, JID, undefined);
    assert.deepEqual(
      fromStorage(removed).map((b) => b.jid),
      ['other@conference.example.org'],
    );
    assert.equal(removed.getChild('url')?.attrs.name, 'Docs');
  });
});
