import assert from 'node:assert/strict';
import { NS } from '../../../../src/xmpp/ns.js';
import {
  adminSet,
  configSubmit,
  destroyRoom,
  directInvite,
  groupchat,
  joinPresence,
  mamQuery,
  mediatedInvite,
} from '../../../../src/xmpp/muc/stanzas.js';

const ROOM = 'team@conference.example.org';
const strip = (s: string) => s.replace(/ id="[^"]+"/, '');

describe('MUC stanzas', () => {
  it("stamp a component occupant's from only when one is given", () => {
    const from = 'bridge@bbb.example.org/parley';
    assert.equal(joinPresence(ROOM, 'A', { maxStanzas: 0, from }).attrs.from, from);
    assert.equal(joinPresence(ROOM, 'A', { maxStanzas: 0 }).attrs.from, undefined);
    assert.equal(configSubmit(ROOM, { name: 'n' }, from).attrs.from, from);
    assert.equal(destroyRoom(ROOM, 'ended', from).attrs.from, from);
    assert.equal(mediatedInvite(ROOM, 'bob@example.org', 'r', from).attrs.from, from);
    assert.equal(groupchat(ROOM, 'hi', { from }).attrs.from, from);
    assert.ok(destroyRoom(ROOM, 'ended').getChild('query', NS.mucOwner)?.getChild('destroy'));
  });

  it('joins with a history request and the password', () => {
    assert.equal(
      strip(joinPresence(ROOM, 'Alice', { password: 'p&w', maxStanzas: 20 }).toString()),
      `<presence to="${ROOM}/Alice"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="20"/><password>p&amp;w</password></x></presence>`,
    );
  });

  it('submits only the options given, as muc#roomconfig fields', () => {
    const form = configSubmit(ROOM, { persistent: true, public: false, password: 'pw', name: undefined });
    const fields = form
      .getChild('query')!
      .getChild('x')!
      .getChildren('field')
      .map((f) => [f.attrs.var, f.getChildText('value')]);
    assert.deepEqual(fields, [
      ['FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'],
      ['muc#roomconfig_persistentroom', '1'],
      ['muc#roomconfig_publicroom', '0'],
      ['muc#roomconfig_roomsecret', 'pw'],
      ['muc#roomconfig_passwordprotectedroom', '1'],
    ]);
  });

  it('submits an empty form for an instant room (which unlocks it)', () => {
    assert.equal(
      configSubmit(ROOM, {}).toString(),
      `<iq type="set" to="${ROOM}"><query xmlns="http://jabber.org/protocol/muc#owner"><x xmlns="jabber:x:data" type="submit"/></query></iq>`,
    );
  });

  it('builds muc#admin items for kick and ban', () => {
    assert.equal(
      adminSet(ROOM, { nick: 'Bob', role: 'none' }, 'bye').toString(),
      `<iq type="set" to="${ROOM}"><query xmlns="http://jabber.org/protocol/muc#admin"><item nick="Bob" role="none"><reason>bye</reason></item></query></iq>`,
    );
    assert.equal(
      adminSet(ROOM, { jid: 'bob@example.org', affiliation: 'outcast' }).toString(),
      `<iq type="set" to="${ROOM}"><query xmlns="http://jabber.org/protocol/muc#admin"><item jid="bob@example.org" affiliation="outcast"/></query></iq>`,
    );
  });

  it('invites through the room, or directly', () => {
    assert.equal(
      strip(mediatedInvite(ROOM, 'bob@example.org', 'come').toString()),
      `<message to="${ROOM}"><x xmlns="http://jabber.org/protocol/muc#user"><invite to="bob@example.org"><reason>come</reason></invite></x></message>`,
    );
    assert.equal(
      strip(directInvite(ROOM, 'bob@example.org', { reason: 'come', password: 'pw' }).toString()),
      `<message to="bob@example.org"><x xmlns="jabber:x:conference" jid="${ROOM}" reason="come" password="pw"/></message>`,
    );
  });

  it('asks the room archive for a page after a stanza-id', () => {
    assert.equal(
      mamQuery(ROOM, 'q1', 'A1', 50).toString(),
      `<iq type="set" to="${ROOM}"><query xmlns="urn:xmpp:mam:2" queryid="q1"><set xmlns="http://jabber.org/protocol/rsm"><max>50</max><after>A1</after></set></query></iq>`,
    );
  });
});
