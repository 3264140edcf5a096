import assert from 'node:assert/strict';
import {
  callCapabilities,
  capsVer,
  parleyDiscoInfo,
  readCaps,
  readDiscoInfo,
} from '../../../src/calls/capabilities.js';
import { parseXml } from '../../../src/raw/parseStanza.js';

describe('capsVer (XEP-0115 §5)', () => {
  it('hashes the simple example of §5.2', () => {
    const info = readDiscoInfo(
      parseXml(`<query xmlns="http://jabber.org/protocol/disco#info">
      <identity category="client" name="Exodus 0.9.1" type="pc"/>
      <feature var="http://jabber.org/protocol/caps"/><feature var="http://jabber.org/protocol/disco#info"/>
      <feature var="http://jabber.org/protocol/disco#items"/><feature var="http://jabber.org/protocol/muc"/></query>`),
    );
    assert.equal(capsVer(info), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
  });

  it('hashes the complex example of §5.3 (languages, non-ASCII names, an extended form)', () => {
    const info = readDiscoInfo(
      parseXml(`<query xmlns="http://jabber.org/protocol/disco#info">
      <identity xml:lang="en" category="client" name="Psi 0.11" type="pc"/>
      <identity xml:lang="el" category="client" name="Ψ 0.11" type="pc"/>
      <feature var="http://jabber.org/protocol/caps"/><feature var="http://jabber.org/protocol/disco#info"/>
      <feature var="http://jabber.org/protocol/disco#items"/><feature var="http://jabber.org/protocol/muc"/>
      <x xmlns="jabber:x:data" type="result">
        <field var="FORM_TYPE" type="hidden"><value>urn:xmpp:dataforms:softwareinfo</value></field>
        <field var="ip_version"><value>ipv4</value><value>ipv6</value></field>
        <field var="os"><value>Mac</value></field>
        <field var="os_version"><value>10.5.1</value></field>
        <field var="software"><value>Psi</value></field>
        <field var="software_version"><value>0.11</value></field>
      </x></query>`),
    );
    assert.equal(capsVer(info), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
  });

  it('knows no hash it cannot compute', () =>
    assert.equal(capsVer({ identities: [], features: [], forms: [] }, 'md4'), undefined));
});

describe('readCaps', () => {
  it('reads node, ver and hash; legacy caps without a hash are ignored', () => {
    const p = parseXml(
      '<presence from="b@x/phone"><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://conversations.im" ver="abc="/></presence>',
    );
    assert.deepEqual(readCaps(p), { node: 'https://conversations.im', ver: 'abc=', hash: 'sha-1' });
    assert.equal(
      readCaps(
        parseXml('<presence><c xmlns="http://jabber.org/protocol/caps" node="n" ver="1.0"/></presence>'),
      ),
      undefined,
    );
  });
});

describe('callCapabilities', () => {
  it('says a Jingle RTP client can take calls even without advertising JMI', () => {
    assert.deepEqual(
      callCapabilities(['urn:xmpp:jingle:1', 'urn:xmpp:jingle:apps:rtp:1', 'urn:xmpp:jingle:apps:rtp:audio']),
      { jmi: false, jingle: true, audio: true, video: false, calls: true, parley: false },
    );
    assert.equal(
      callCapabilities(['urn:xmpp:jingle:1']).calls,
      false,
      'Jingle without RTP media (file transfer) is no phone',
    );
    assert.equal(callCapabilities([]).calls, false);
  });
  it('recognises a Parley session from its own disco#info answer', () => {
    const features = readDiscoInfo(parleyDiscoInfo('n#v')).features;
    assert.deepEqual(callCapabilities(features), {
      jmi: true,
      jingle: false,
      audio: false,
      video: false,
      calls: true,
      parley: true,
    });
    assert.equal(parleyDiscoInfo('n#v').attrs.node, 'n#v');
  });
});
