import assert from 'node:assert/strict';
import { buildSearchSet, parseSearchResult } from '../../../src/users/xep0055.js';
import { parseXml } from '../../../src/raw/parseStanza.js';

/** Fixtures after XEP-0055 §2 (legacy fields) and §3 (data forms, as ejabberd and Openfire send them). */
describe('XEP-0055 search', () => {
  it('fills the first legacy field offered and reads legacy items', () => {
    const fields = parseXml(
      '<query xmlns="jabber:iq:search"><instructions>…</instructions><first/><last/><nick/></query>',
    );
    assert.equal(
      buildSearchSet('search.example.org', fields, 'ali')?.toString(),
      '<iq type="set" to="search.example.org"><query xmlns="jabber:iq:search"><nick>ali</nick></query></iq>',
    );
    const result = parseXml(`<query xmlns="jabber:iq:search">
      <item jid="alice@example.org"><first>Alice</first><last>Liddell</last><nick>ali</nick><email>alice@example.org</email></item>
      <item jid="x.example.org"/></query>`);
    assert.deepEqual(parseSearchResult(result, 'example.org'), [
      { username: 'alice', jid: 'alice@example.org', name: 'Alice Liddell', email: 'alice@example.org' },
    ]);
  });

  it('submits a data form: the term in the best text field, hidden fields kept, every boolean on (Openfire)', () => {
    const fields = parseXml(`<query xmlns="jabber:iq:search"><x xmlns="jabber:x:data" type="form">
      <field var="FORM_TYPE" type="hidden"><value>jabber:iq:search</value></field>
      <field var="search" type="text-single"/><field var="Username" type="boolean"/><field var="Name" type="boolean"/>
    </x></query>`);
    assert.equal(
      buildSearchSet('search.example.org', fields, 'ali')?.toString(),
      '<iq type="set" to="search.example.org"><query xmlns="jabber:iq:search"><x xmlns="jabber:x:data" type="submit">' +
        '<field var="FORM_TYPE"><value>jabber:iq:search</value></field><field var="search"><value>ali</value></field>' +
        '<field var="Username"><value>1</value></field><field var="Name"><value>1</value></field></x></query></iq>',
    );
  });

  it('reads data-form results by jid or username, with name and email', () => {
    const result = parseXml(`<query xmlns="jabber:iq:search"><x xmlns="jabber:x:data" type="result">
      <reported><field var="jid"/><field var="fn"/><field var="email"/></reported>
      <item><field var="jid"><value>Alice@example.org</value></field><field var="fn"><value>Alice L.</value></field><field var="email"><value>a@example.org</value></field></item>
      <item><field var="Username"><value>bob</value></field><field var="Name"><value>Bob</value></field></item>
    </x></query>`);
    assert.deepEqual(parseSearchResult(result, 'example.org'), [
      { username: 'alice', jid: 'alice@example.org', name: 'Alice L.', email: 'a@example.org' },
      { username: 'bob', jid: 'bob@example.org', name: 'Bob', email: null },
    ]);
  });
});
