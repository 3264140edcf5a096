import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { readGroupchat, readInvite, readOccupant } from '../../../../src/xmpp/muc/read.js';
import { readRoomMessage } from '../../../../src/bbb/roomMessage.js';
import { NS } from '../../../../src/xmpp/ns.js';

const ROOM = 'bbb-m1@conference.example.org';
const status = (...codes: string[]) =>
  xml('x', { xmlns: NS.mucUser }, ...codes.map((code) => xml('status', { code })));

describe('MUC readers', () => {
  it('read self-presence (joined, created, left), other occupants and join errors', () => {
    const self = readOccupant(
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
      available: true,
      self: true,
      created: true,
      realJid: undefined,
      codes: ['110', '201'],
    });
    const left = readOccupant(xml('presence', { from: `${ROOM}/Ada`, type: 'unavailable' }, status('110')));
    assert.deepEqual([left?.self, left?.available], [true, false]);
    const other = readOccupant(
      xml(
        'presence',
        { from: `${ROOM}/Bob` },
        xml('x', { xmlns: NS.mucUser }, xml('item', { jid: 'bob@example.org/x', role: 'participant' })),
      ),
    );
    assert.deepEqual([other?.self, other?.realJid], [false, 'bob@example.org/x']);
    const err = readOccupant(
      xml(
        'presence',
        { from: `${ROOM}/Ada`, type: 'error' },
        xml('error', { type: 'cancel' }, xml('conflict', { xmlns: NS.stanzas })),
      ),
    );
    assert.equal(err?.error, 'conflict');
    assert.equal(readOccupant(xml('presence', { from: ROOM }, status('110'))), undefined);
    assert.equal(readOccupant(xml('presence', { from: 'bob@example.org/x' })), undefined);
  });

  it('read a mediated invitation with its inviter and reason', () => {
    const inv = xml(
      'message',
      { from: ROOM.toUpperCase() },
      xml(
        'x',
        { xmlns: NS.mucUser },
        xml('invite', { from: 'ag@example.org/x' }, xml('reason', {}, 'hello')),
      ),
    );
    assert.deepEqual(readInvite(inv), { room: ROOM, inviter: 'ag@example.org/x', reason: 'hello' });
  });

  it("read groupchat with the room's stanza id, the sender's data and a delay", () => {
    const g = readGroupchat(
      xml(
        'message',
        { from: `${ROOM}/native`, type: 'groupchat', id: 'm1' },
        xml('body', {}, 'hi'),
        xml('data', { xmlns: NS.parleyData }, '{"a":1}'),
        xml('stanza-id', { xmlns: NS.sid, by: 'other@example.org', id: 'not-the-room' }),
        xml('stanza-id', { xmlns: NS.sid, by: ROOM, id: 'arch-1' }),
        xml('delay', { xmlns: NS.delay, stamp: '2025-01-01T00:00:00Z' }),
      ),
    );
    assert.deepEqual(g, {
      room: ROOM,
      nick: 'native',
      body: 'hi',
      data: { a: 1 },
      stanzaId: 'arch-1',
      id: 'm1',
      historic: true,
      delayed: new Date('2025-01-01T00:00:00Z'),
    });
  });
});

describe('BBB: room messages worth forwarding', () => {
  it("forwards live groupchat bodies with the room's stanza id, and skips history, subjects and non-groupchat", () => {
    const live = xml(
      'message',
      { from: `${ROOM}/native`, type: 'groupchat', id: 'm1' },
      xml('body', {}, 'hi'),
      xml('stanza-id', { xmlns: NS.sid, by: ROOM, id: 'arch-1' }),
    );
    assert.deepEqual(readRoomMessage(live), { room: ROOM, nick: 'native', body: 'hi', source: 'arch-1' });
    const noArchive = xml(
      'message',
      { from: `${ROOM}/n`, type: 'groupchat', id: 'm2' },
      xml('body', {}, 'x'),
    );
    assert.equal(readRoomMessage(noArchive)?.source, 'm2');
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
      readRoomMessage(xml('message', { from: ROOM, type: 'groupchat' }, xml('body', {}, 'r'))),
      undefined,
    );
    assert.equal(
      readRoomMessage(xml('message', { from: `${ROOM}/native`, type: 'chat' }, xml('body', {}, 'pm'))),
      undefined,
    );
  });
});
