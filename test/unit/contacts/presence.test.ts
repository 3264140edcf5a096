import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { buildOwnPresence, parsePresenceQuery, presenceEvent } from '../../../src/contacts/presence.js';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { parseXml } from '../../../src/raw/parseStanza.js';

const code = (c: string) => (e: unknown) => e instanceof BridgeError && e.code === c;

describe('parsePresenceQuery', () => {
  it('defaults to available with no status and priority 0', () => {
    assert.deepEqual(parsePresenceQuery({}), { show: 'available', status: null, priority: 0 });
  });
  it("reads ofchat's show values, a status and a priority", () => {
    assert.deepEqual(parsePresenceQuery({ show: 'xa', status: 'away for a week', priority: '-5' }), {
      show: 'xa',
      status: 'away for a week',
      priority: -5,
    });
  });
  for (const q of [
    { show: 'sleeping' },
    { show: ['away', 'dnd'] },
    { priority: '128' },
    { priority: '1.5' },
    { status: 'x'.repeat(1025) },
  ]) {
    it(`answers 400 for ${JSON.stringify(q).slice(0, 60)}`, () =>
      assert.throws(() => parsePresenceQuery(q), code('BAD_REQUEST')));
  }
});

describe('buildOwnPresence', () => {
  it('leaves <show/> out for available and sends priority only when set', () => {
    assert.equal(
      buildOwnPresence({ show: 'available', status: null, priority: 0 }).toString(),
      '<presence/>',
    );
    assert.equal(
      buildOwnPresence({ show: 'dnd', status: 'busy & away', priority: 3 }).toString(),
      '<presence><show>dnd</show><status>busy &amp; away</status><priority>3</priority></presence>',
    );
  });
  it('turns offline into type=unavailable (ofchat)', () => {
    assert.equal(
      buildOwnPresence({ show: 'offline', status: 'bye', priority: 0 }).toString(),
      '<presence type="unavailable"><status>bye</status></presence>',
    );
  });
});

describe('presenceEvent', () => {
  const own = 'alice@example.org/parley-1';
  it('maps available presence with show, status and priority', () => {
    const el = parseXml(
      '<presence from="bob@example.org/phone" to="alice@example.org"><show>away</show><status>lunch</status><priority>5</priority></presence>',
    );
    assert.deepEqual(presenceEvent(el, own), {
      type: 'available',
      from: 'bob@example.org/phone',
      to: 'alice@example.org',
      show: 'away',
      status: 'lunch',
      priority: 5,
    });
  });
  it("gives unavailable presence show offline, and a missing to the session's JID", () => {
    assert.deepEqual(
      presenceEvent(xml('presence', { from: 'bob@example.org/phone', type: 'unavailable' }), own),
      { type: 'unavailable', from: 'bob@example.org/phone', to: own, show: 'offline', status: null },
    );
  });
  it('carries the nickname of a subscription request (XEP-0172) and the condition of an error', () => {
    const sub = parseXml(
      '<presence from="dave@example.org" type="subscribe"><nick xmlns="http://jabber.org/protocol/nick">Dave</nick></presence>',
    );
    assert.equal(presenceEvent(sub, own)?.nick, 'Dave');
    const err = parseXml(
      '<presence from="x@example.org" type="error"><error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>',
    );
    assert.equal(presenceEvent(err, own)?.error, 'remote-server-not-found');
  });
  it('ignores probes and unknown show values', () => {
    assert.equal(presenceEvent(xml('presence', { type: 'probe', from: 'x@example.org' }), own), undefined);
    assert.equal(
      presenceEvent(parseXml('<presence from="b@example.org/x"><show>offline</show></presence>'), own)?.show,
      'available',
    );
  });
});

describe('presenceEvent on either server', () => {
  it("names the user by the bare JID also where the server addresses the session's resource (ejabberd)", () => {
    const el = parseXml('<presence from="bob@example.org/phone" to="alice@example.org/parley-1"/>');
    assert.equal(presenceEvent(el, 'alice@example.org')?.to, 'alice@example.org');
  });
});
