import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { destroyRoom, joinPresence, readRoomMessage, readRoomPresence } from '../../../src/bbb/mucStanzas.js';
import { NS } from '../../../src/xmpp/ns.js';

const ROOM = 'bbb-m1@conference.example.org';
const status = (...codes: string[]) =>
  xml('x', { xmlns: NS.mucUser }, ...codes.map((code) => xml('status', { code })));

describe('MUC stanzas of the bbb component', () => {
  it('joins with a stamped from and no history', () => {
    const p = joinPresence('w_ada@bbb.example.org/Ada', `${ROOM}/Ada`);
    assert.equal(p.attrs.from, 'w_ada@bbb.example.org/Ada');
    assert.equal(p.getChild('x', NS.muc)?.getChild('history')?.attrs.maxstanzas, '0');
    assert.ok(
      destroyRoom('bridge@bbb.example.org/parley', ROOM, 'ended')
        .getChild('query', NS.mucOwner)
        ?.getChild('destroy'),
    );
  });

  it('reads self-presence (joined, created, left) and errors; other occupants\' presence is "other"', () => {
    const self = readRoomPresence(
      xml(
        'presence',
        { from: `${ROOM.toUpperCase()}/Ada`, to: 'w_ada@bbb.example.org/Ada' },
        status('110', '201'),
      ),
    );
    assert.deepEqual(self, {
      room: ROOM,
      nick: 'Ada',
      to: 'w_ada@bbb.example.org/Ada',
      kind: 'joined',
      created: true,
    });
    assert.equal(
      readRoomPresence(xml('presence', { from: `${ROOM}/Ada`, type: 'unavailable' }, status('110'))).kind,
      'left',
    );
    assert.equal(readRoomPresence(xml('presence', { from: `${ROOM}/Bob` }, status())).kind, 'other');
    const err = readRoomPresence(
      xml(
        'presence',
        { from: `${ROOM}/Ada`, type: 'error' },
        xml('error', { type: 'cancel' }, xml('conflict', { xmlns: NS.stanzas })),
      ),
    );
    assert.deepEqual([err.kind, err.condition], ['error', 'conflict']);
  });

  it("forwards live groupchat bodies with the room's stanza id, and skips history, subjects and non-groupchat", () => {
    const live = xml(
      'message',
      { from: `${ROOM}/native`, type: 'groupchat', id: 'm1' },
      xml('body', {}, 'hi'),
      xml('stanza-id', { xmlns: NS.sid, by: ROOM, id: 'arch-1' }),
    );
    assert.deepEqual(readRoomMessage(live), { room: ROOM, nick: 'native', body: 'hi', source: 'arch-1' });
    const history = xml(
      'message',
      { from: `${ROOM}/native`, type: 'groupchat' },
      xml('body', {}, 'old'),
      xml('delay', { xmlns: NS.delay, stamp: '2025-01-01T00:00:00Z' }),
    );
    assert.equal(readRoomMessage(history), undefined);
    assert.equal(
      readRoomMessage(xml('message', { from: ROOM, type: 'groupchat' }, xml('subject', {}, 'Topic'))),
      undefined,
    );
    assert.equal(
      readRoomMessage(xml('message', { from: `${ROOM}/native`, type: 'chat' }, xml('body', {}, 'pm'))),
      undefined,
    );
  });
});
