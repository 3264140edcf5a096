import assert from 'node:assert/strict';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { parseNick, parseRoom, parseService } from '../../../src/rooms/names.js';

const naming = { domain: 'example.org', mucService: 'conference.example.org' };
const code = (c: string) => (e: unknown) => e instanceof BridgeError && e.code === c;

describe('parseRoom', () => {
  it('puts a room name in the default MUC service, case-folded', () => {
    assert.deepEqual(parseRoom('Team', undefined, naming), {
      jid: 'team@conference.example.org',
      name: 'team',
      service: 'conference.example.org',
    });
  });
  it("takes the service from ?service= (a domain, or ofchat's short name)", () => {
    assert.equal(parseRoom('team', 'muc.example.net', naming).jid, 'team@muc.example.net');
    assert.equal(parseRoom('team', 'conference', naming).jid, 'team@conference.example.org');
  });
  it("accepts a room's bare JID, whatever the service parameter says", () => {
    assert.deepEqual(parseRoom('team@muc.example.net', 'conference', naming), {
      jid: 'team@muc.example.net',
      name: 'team',
      service: 'muc.example.net',
    });
  });
  for (const bad of ['bad room', 'a"b', 'x:y', 'a/b', 'a@b@c', '', '<x>']) {
    it(`answers 400 INVALID_JID for ${JSON.stringify(bad)}`, () =>
      assert.throws(() => parseRoom(bad, undefined, naming), code('INVALID_JID')));
  }
});

describe('parseService', () => {
  it('refuses a JID with a localpart', () =>
    assert.throws(() => parseService('user@example.org', naming), code('INVALID_JID')));
});

describe('parseNick', () => {
  it('keeps a nick as it is (case, inner spaces, any script)', () =>
    assert.equal(parseNick('Dr. Ålice B'), 'Dr. Ålice B'));
  for (const bad of ['', ' ', ' padded', 'tab\there', 'x'.repeat(1024)]) {
    it(`answers 400 for ${JSON.stringify(bad.slice(0, 20))}`, () =>
      assert.throws(() => parseNick(bad), code('BAD_REQUEST')));
  }
});
