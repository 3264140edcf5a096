import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import {
  leaveCause,
  readError,
  readInvitation,
  readMamResult,
  readOccupant,
  readRoomInfo,
} from '../../../src/rooms/inbound.js';
import { groupchatPayload, occupantPayload } from '../../../src/rooms/events.js';

const ROOM = 'team@conference.example.org';
const MUC_USER = 'http://jabber.org/protocol/muc#user';
const status = (...codes: string[]) => codes.map((code) => xml('status', { code }));

describe('readOccupant', () => {
  it('reads our own presence (110), the room creation (201), role, affiliation and real JID', () => {
    const p = xml(
      'presence',
      { from: `${ROOM}/Alice`, to: 'alice@example.org/parley-1' },
      xml(
        'x',
        { xmlns: MUC_USER },
        ...status('201'),
        xml('item', { affiliation: 'owner', role: 'moderator', jid: 'alice@example.org/parley-1' }),
        ...status('110'),
      ),
    );
    const o = readOccupant(p)!;
    assert.deepEqual(
      [o.room, o.nick, o.self, o.available, o.role, o.affiliation, o.jid, o.codes],
      [ROOM, 'Alice', true, true, 'moderator', 'owner', 'alice@example.org/parley-1', ['201', '110']],
    );
  });

  it('reads another occupant, with show and status, and ignores presence without muc#user', () => {
    const p = xml(
      'presence',
      { from: `${ROOM}/Bob` },
      xml('show', {}, 'away'),
      xml('status', {}, 'lunch'),
      xml('x', { xmlns: MUC_USER }, xml('item', { affiliation: 'none', role: 'participant' })),
    );
    const o = readOccupant(p)!;
    assert.deepEqual([o.nick, o.self, o.show, o.status, o.jid], ['Bob', false, 'away', 'lunch', undefined]);
    assert.equal(readOccupant(xml('presence', { from: `${ROOM}/Bob` })), undefined);
    assert.equal(
      readOccupant(xml('presence', { from: ROOM }, xml('x', { xmlns: MUC_USER }))),
      undefined,
      'the room itself is no occupant',
    );
  });

  it('tells why we are out of the room', () => {
    const left = (...children: ReturnType<typeof xml>[]) =>
      readOccupant(
        xml(
          'presence',
          { from: `${ROOM}/Alice`, type: 'unavailable' },
          xml(
            'x',
            { xmlns: MUC_USER },
            xml(
              'item',
              { affiliation: 'none', role: 'none' },
              xml('actor', { nick: 'Mod' }),
              xml('reason', {}, 'spam'),
            ),
            ...children,
            ...status('110'),
          ),
        ),
      )!;
    assert.equal(leaveCause(left()), 'self');
    assert.equal(leaveCause(left(...status('307'))), 'kicked');
    assert.equal(leaveCause(left(...status('301'))), 'banned');
    assert.equal(leaveCause(left(...status('321'))), 'affiliation');
    assert.equal(leaveCause(left(...status('322'))), 'membersOnly');
    assert.equal(leaveCause(left(...status('332'))), 'shutdown');
    const destroyed = left(xml('destroy', { jid: 'new@conference.example.org' }, xml('reason', {}, 'moved')));
    assert.equal(leaveCause(destroyed), 'destroyed');
    assert.deepEqual(destroyed.destroyed, { reason: 'moved', alternate: 'new@conference.example.org' });
    assert.deepEqual([left().actor, left().reason], ['Mod', 'spam']);
  });
});

describe('readInvitation', () => {
  it('reads a mediated invitation (with the password the room adds) before its legacy copy', () => {
    const m = xml(
      'message',
      { from: ROOM, to: 'bob@example.org' },
      xml(
        'x',
        { xmlns: MUC_USER },
        xml('invite', { from: 'alice@example.org/phone' }, xml('reason', {}, 'join us')),
        xml('password', {}, 'pw'),
      ),
      xml('x', { xmlns: 'jabber:x:conference', jid: ROOM }, 'join us'),
    );
    assert.deepEqual(readInvitation(m), {
      room: ROOM,
      from: ROOM,
      to: 'bob@example.org',
      inviter: 'alice@example.org/phone',
      direct: false,
      reason: 'join us',
      password: 'pw',
    });
  });

  it('reads a direct (XEP-0249) invitation from the inviter', () => {
    const m = xml(
      'message',
      { from: 'alice@example.org/phone', to: 'bob@example.org' },
      xml('x', {
        xmlns: 'jabber:x:conference',
        jid: 'Team@Conference.example.org',
        reason: 'see you',
        password: 'pw',
      }),
    );
    assert.deepEqual(readInvitation(m), {
      room: 'team@conference.example.org',
      from: 'alice@example.org/phone',
      to: 'bob@example.org',
      inviter: 'alice@example.org/phone',
      direct: true,
      reason: 'see you',
      password: 'pw',
    });
    assert.equal(readInvitation(xml('message', {}, xml('body', {}, 'hi'))), undefined);
  });
});

describe('readMamResult', () => {
  it('unwraps the archived message, its archive id and time', () => {
    const m = xml(
      'message',
      { from: ROOM },
      xml(
        'result',
        { xmlns: 'urn:xmpp:mam:2', queryid: 'q1', id: 'A1' },
        xml(
          'forwarded',
          { xmlns: 'urn:xmpp:forward:0' },
          xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2025-05-01T09:00:00Z' }),
          xml('message', { type: 'groupchat', from: `${ROOM}/Bob`, id: 'm1' }, xml('body', {}, 'hi')),
        ),
      ),
    );
    const r = readMamResult(m)!;
    assert.deepEqual(
      [r.queryId, r.archiveId, r.msg.getChildText('body'), r.sentAt?.toISOString()],
      ['q1', 'A1', 'hi', '2025-05-01T09:00:00.000Z'],
    );
  });
});

describe('readRoomInfo', () => {
  it('maps features and the muc#roominfo form', () => {
    const field = (v: string, value: string) => xml('field', { var: v }, xml('value', {}, value));
    const iq = xml(
      'iq',
      { type: 'result' },
      xml(
        'query',
        { xmlns: 'http://jabber.org/protocol/disco#info' },
        xml('identity', { category: 'conference', type: 'text', name: 'Team' }),
        ...[
          'muc_public',
          'muc_persistent',
          'muc_passwordprotected',
          'muc_nonanonymous',
          'urn:xmpp:mam:2',
        ].map((v) => xml('feature', { var: v })),
        xml(
          'x',
          { xmlns: 'jabber:x:data', type: 'result' },
          field('muc#roominfo_occupants', '2'),
          field('muc#roominfo_description', 'Our room'),
        ),
      ),
    );
    const info = readRoomInfo(ROOM, iq);
    assert.deepEqual(
      [
        info.name,
        info.description,
        info.occupants,
        info.public,
        info.persistent,
        info.passwordProtected,
        info.membersOnly,
        info.anonymous,
        info.archived,
      ],
      ['Team', 'Our room', 2, true, true, true, false, 'non', true],
    );
  });
});

describe('readError', () => {
  it('finds the defined condition and the text', () => {
    const p = xml(
      'presence',
      { type: 'error' },
      xml(
        'error',
        { type: 'auth' },
        xml('not-authorized', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }),
        xml('text', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }, 'password required'),
      ),
    );
    const e = readError(p);
    assert.deepEqual([e.condition, e.text], ['not-authorized', 'password required']);
  });
});

describe('room event payloads', () => {
  it("names ids as chat does: stanzaId the message id, archiveId the room's stanza-id", () => {
    const p = groupchatPayload({
      room: ROOM,
      nick: 'Bob',
      from: `${ROOM}/Bob`,
      to: 'alice@example.org/p',
      body: 'hi',
      data: null,
      messageId: 'm1',
      stanzaId: 'A1',
      direction: 'in',
      delayed: new Date('2025-05-01T09:00:00Z'),
    });
    assert.deepEqual(p, {
      type: 'groupchat',
      room: ROOM,
      nick: 'Bob',
      from: `${ROOM}/Bob`,
      to: 'alice@example.org/p',
      body: 'hi',
      data: null,
      stanzaId: 'm1',
      archiveId: 'A1',
      direction: 'in',
      delayed: true,
      timestamp: '2025-05-01T09:00:00.000Z',
    });
  });

  it("gives occupant presence a type, the room and ofchat's show words", () => {
    const o = readOccupant(
      xml(
        'presence',
        { from: `${ROOM}/Bob`, type: 'unavailable' },
        xml('x', { xmlns: MUC_USER }, xml('item', { affiliation: 'member', role: 'none' })),
      ),
    )!;
    assert.deepEqual(occupantPayload(o, 'alice@example.org/p'), {
      type: 'unavailable',
      from: `${ROOM}/Bob`,
      to: 'alice@example.org/p',
      room: ROOM,
      nick: 'Bob',
      role: 'none',
      affiliation: 'member',
      show: 'offline',
      status: null,
    });
  });
});

describe('readOccupant on either server', () => {
  it('reads a destroyed room’s presence as our own, with or without status 110 (ejabberd omits it)', () => {
    const destroyed = xml(
      'presence',
      { from: `${ROOM}/Alice`, type: 'unavailable' },
      xml(
        'x',
        { xmlns: MUC_USER },
        xml('destroy', {}, xml('reason', {}, 'done')),
        xml('item', { role: 'none', affiliation: 'none' }),
      ),
    );
    const o = readOccupant(destroyed)!;
    assert.deepEqual([o.self, o.available, o.destroyed?.reason], [true, false, 'done']);
  });
});
