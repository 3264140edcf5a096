import assert from 'node:assert/strict';
import { buildJmi, declineReason, parseBounce, parseJmi } from '../../../src/calls/jmi.js';
import { parseXml } from '../../../src/raw/parseStanza.js';

const JMI = 'urn:xmpp:jingle-message:0';

describe('buildJmi', () => {
  it("proposes audio and video with Parley's options, to the bare JID, stored, with the call id as message id", () => {
    const el = buildJmi('bob@example.org', {
      action: 'propose',
      callId: 'c-1',
      options: { audioOnly: false, roomName: 'room-7', roomSid: 'RM1', autoAccept: true, acceptAfter: 10 },
    });
    assert.equal(
      el.toString(),
      '<message type="chat" to="bob@example.org" id="c-1">' +
        `<propose xmlns="${JMI}" id="c-1">` +
        '<description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"/><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video"/>' +
        '<call xmlns="urn:parley:call:0" room-name="room-7" room-sid="RM1" auto-accept="true" accept-after="10"/>' +
        '</propose><store xmlns="urn:xmpp:hints"/></message>',
    );
  });
  it('proposes audio only, leaving unset options out', () => {
    const el = buildJmi('bob@example.org', {
      action: 'propose',
      callId: 'c-2',
      options: { audioOnly: true, autoAccept: false },
    });
    const propose = el.getChild('propose', JMI)!;
    assert.deepEqual(
      propose.getChildren('description').map((d) => d.attrs.media),
      ['audio'],
    );
    assert.deepEqual(propose.getChild('call')!.attrs, { xmlns: 'urn:parley:call:0' });
  });
  it('rejects with a Jingle reason and text', () => {
    const el = buildJmi('alice@example.org', {
      action: 'reject',
      callId: 'c-3',
      reason: { condition: 'busy', text: 'in a meeting' },
    });
    assert.equal(el.attrs.type, 'chat');
    assert.notEqual(el.attrs.id, 'c-3', 'only a propose reuses the call id');
    assert.equal(
      el.getChild('reject', JMI)!.toString(),
      `<reject xmlns="${JMI}" id="c-3"><reason xmlns="urn:xmpp:jingle:1"><busy/><text>in a meeting</text></reason></reject>`,
    );
  });
});

describe('parseJmi', () => {
  it('reads a proposal from a native client (audio only, no Parley options)', () => {
    const msg = parseXml(
      `<message from="bob@example.org/phone" type="chat"><propose xmlns="${JMI}" id="ca3c"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"/></propose></message>`,
    );
    assert.deepEqual(parseJmi(msg), {
      action: 'propose',
      callId: 'ca3c',
      options: { audioOnly: true, autoAccept: false },
    });
  });
  it("round-trips Parley's options", () => {
    const options = { audioOnly: false, roomName: 'r', roomSid: 's', autoAccept: true, acceptAfter: 5 };
    assert.deepEqual(parseJmi(buildJmi('b@x', { action: 'propose', callId: 'id1', options })), {
      action: 'propose',
      callId: 'id1',
      options,
    });
  });
  it('drops out-of-range options from other senders', () => {
    const msg = parseXml(
      `<message><propose xmlns="${JMI}" id="x"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video"/><call xmlns="urn:parley:call:0" accept-after="-3" room-name="${'r'.repeat(300)}"/></propose></message>`,
    );
    assert.deepEqual(
      parseJmi(msg)?.options,
      { audioOnly: false, autoAccept: false },
      'video means not audio-only',
    );
  });
  it('reads reasons, also without the Jingle namespace', () => {
    const msg = parseXml(
      `<message><retract xmlns="${JMI}" id="r1"><reason><cancel/><text>Retracted</text></reason></retract></message>`,
    );
    assert.deepEqual(parseJmi(msg), {
      action: 'retract',
      callId: 'r1',
      reason: { condition: 'cancel', text: 'Retracted' },
    });
    assert.deepEqual(parseJmi(parseXml(`<message><proceed xmlns="${JMI}" id="p1"/></message>`)), {
      action: 'proceed',
      callId: 'p1',
    });
  });
  it('ignores what is not a call: no JMI element, no id, a proposal without audio or video', () => {
    assert.equal(parseJmi(parseXml('<message><body>hi</body></message>')), undefined);
    assert.equal(parseJmi(parseXml(`<message><proceed xmlns="${JMI}"/></message>`)), undefined);
    assert.equal(
      parseJmi(
        parseXml(
          `<message><propose xmlns="${JMI}" id="f"><description xmlns="urn:xmpp:jingle:apps:file-transfer:5"/></propose></message>`,
        ),
      ),
      undefined,
    );
    assert.equal(
      parseJmi(parseXml('<message><proceed xmlns="urn:xmpp:jingle-message:1" id="old"/></message>')),
      undefined,
    );
  });
});

describe('declineReason', () => {
  it("maps the seed's free-text reasons to Jingle conditions and keeps the text", () => {
    assert.deepEqual(declineReason(undefined), { condition: 'decline' });
    assert.deepEqual(declineReason('declined'), { condition: 'decline', text: 'declined' });
    assert.deepEqual(declineReason('Busy'), { condition: 'busy', text: 'Busy' });
    assert.deepEqual(declineReason('camera unavailable'), {
      condition: 'media-error',
      text: 'camera unavailable',
    });
    assert.deepEqual(declineReason('TypeError exception in setup'), {
      condition: 'failed-application',
      text: 'TypeError exception in setup',
    });
  });
  it('lets an explicit condition win', () => {
    assert.deepEqual(declineReason('busy', 'decline'), { condition: 'decline', text: 'busy' });
  });
});

describe('parseBounce', () => {
  it('reads the id and the stanza error condition of a bounced message', () => {
    const msg = parseXml(
      '<message type="error" id="c-1" from="nobody@example.org"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>',
    );
    assert.deepEqual(parseBounce(msg), { messageId: 'c-1', condition: 'service-unavailable' });
    assert.equal(parseBounce(parseXml('<message type="chat" id="c-1"/>')), undefined);
  });
});
