import assert from 'node:assert/strict';
import {
  roomHistoryShape,
  roomShape,
  roomsShape,
  rosterShape,
  usersShape,
} from '../../../../src/http/ofchat/entities.js';

describe('ofchat REST API entities (Jersey 1 JSON)', () => {
  it('roster: rosterItem with a string subscriptionType, groups wrapped as {group}, offline as unavailable', () => {
    const bob = {
      jid: 'bob@x',
      nickname: 'Bob',
      groups: ['Friends'],
      subscriptionType: 3,
      show: 'away',
      status: 'lunch',
    };
    const carol = {
      jid: 'carol@x',
      nickname: null,
      groups: ['A', 'B'],
      subscriptionType: 0,
      show: 'offline',
      status: null,
    };
    const dave = {
      jid: 'dave@x',
      nickname: null,
      groups: [],
      subscriptionType: -1,
      show: 'available',
      status: null,
    };
    assert.deepEqual(rosterShape([bob]), {
      rosterItem: {
        jid: 'bob@x',
        nickname: 'Bob',
        subscriptionType: '3',
        groups: { group: 'Friends' },
        show: 'away',
        status: 'lunch',
      },
    });
    assert.deepEqual(rosterShape([carol, dave]), {
      rosterItem: [
        { jid: 'carol@x', subscriptionType: '0', groups: { group: ['A', 'B'] }, show: 'unavailable' },
        { jid: 'dave@x', subscriptionType: '-1', show: 'available' },
      ],
    });
    assert.deepEqual(rosterShape([]), {});
  });

  it('users: user {username, name, email}, nulls left out, never a password', () => {
    assert.deepEqual(usersShape([{ username: 'bob', name: 'Bob B', email: null }]), {
      user: { username: 'bob', name: 'Bob B' },
    });
    assert.deepEqual(
      usersShape([
        { username: 'a', name: null, email: 'a@x' },
        { username: 'b', name: null, email: null },
      ]),
      { user: [{ username: 'a', email: 'a@x' }, { username: 'b' }] },
    );
    assert.deepEqual(usersShape([]), {});
  });

  it('rooms: chatRoom {roomName, naturalName}; one room collapsed, none {}', () => {
    assert.deepEqual(roomsShape([{ room: 'team', name: 'The team' }]), {
      chatRoom: { roomName: 'team', naturalName: 'The team' },
    });
    assert.deepEqual(
      roomsShape([
        { room: 'a', name: null },
        { room: 'b', name: 'B' },
      ]),
      {
        chatRoom: [
          { roomName: 'a', naturalName: 'a' },
          { roomName: 'b', naturalName: 'B' },
        ],
      },
    );
    assert.deepEqual(roomsShape([]), {});
  });

  it('one room: MUCRoomEntity fields from disco#info, booleans as strings', () => {
    assert.deepEqual(
      roomShape({
        room: 'team',
        name: 'Team',
        description: undefined,
        subject: null,
        public: true,
        persistent: false,
        membersOnly: false,
        moderated: true,
        anonymous: 'non',
        archived: true,
      }),
      {
        roomName: 'team',
        naturalName: 'Team',
        persistent: 'false',
        publicRoom: 'true',
        canAnyoneDiscoverJID: 'true',
        logEnabled: 'true',
        membersOnly: 'false',
        moderated: 'true',
      },
    );
  });

  it('room history: message {to, from room/nick, type, body, delay_stamp, delay_from}', () => {
    const m = {
      room: 'team@c.x',
      nick: 'alice',
      from: 'alice@x/web',
      body: 'hi',
      timestamp: '2026-12-06T07:00:00.000Z',
    };
    assert.deepEqual(roomHistoryShape('team@c.x', [m]), {
      message: {
        to: 'team@c.x',
        from: 'team@c.x/alice',
        type: 'groupchat',
        body: 'hi',
        delay_stamp: '2026-12-06T07:00:00.000Z',
        delay_from: 'team@c.x',
      },
    });
    const subjectOnly = { ...m, nick: null, body: null };
    const two = roomHistoryShape('team@c.x', [m, subjectOnly]) as { message: Record<string, string>[] };
    assert.equal(two.message.length, 2);
    assert.equal(two.message[1]!.from, 'alice@x/web');
    assert.equal(two.message[1]!.body, undefined);
    assert.deepEqual(roomHistoryShape('team@c.x', []), {});
  });
});
