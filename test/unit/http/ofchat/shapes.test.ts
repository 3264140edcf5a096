import assert from 'node:assert/strict';
import {
  askQueueShape,
  conversationsShape,
  errorShape,
  jerseyList,
  occupantsShape,
  participantsShape,
} from '../../../../src/http/ofchat/shapes.js';

describe('ofchat shapes (Jersey 1 JSON)', () => {
  it('collapses a list of one to the item and leaves an empty list out', () => {
    assert.equal(jerseyList([]), undefined);
    assert.deepEqual(jerseyList([1]), 1);
    assert.deepEqual(jerseyList([1, 2]), [1, 2]);
    assert.deepEqual(participantsShape('r@c.x', []), {});
  });

  it('names every occupant room@service/nick, affiliated or not, as participants and occupants', () => {
    const occupants = [
      { nick: 'agent', role: 'participant', affiliation: 'none', jid: 'agent@x/web' },
      { nick: 'visitor', role: 'moderator', affiliation: 'owner' },
    ];
    assert.deepEqual(participantsShape('r@c.x', occupants), {
      participant: [
        { jid: 'r@c.x/agent', role: 'participant', affiliation: 'none' },
        { jid: 'r@c.x/visitor', role: 'moderator', affiliation: 'owner' },
      ],
    });
    assert.deepEqual(occupantsShape('r@c.x', occupants.slice(1)), {
      occupant: {
        jid: 'r@c.x/visitor',
        role: 'moderator',
        affiliation: 'owner',
        userAddress: 'r@c.x/visitor',
      },
    });
  });

  it('groups history by peer and room, splits after 10 idle minutes, writes every scalar as a string', () => {
    const at = (min: number) => new Date(Date.UTC(2026, 11, 6, 6, min)).toISOString();
    const shape = conversationsShape('alice@x', [
      { id: '3', from: 'bob@x/phone', to: 'alice@x', body: 'hi back', timestamp: at(1) },
      { id: '2', from: 'alice@x/web', to: 'bob@x', body: 'hi', timestamp: at(0) },
      { id: '4', from: 'alice@x/web', to: 'bob@x', body: 'later', timestamp: at(30) },
      { id: '5', from: 'team@c.x/carol', to: 'alice@x', body: 'room', timestamp: at(2), room: 'team@c.x' },
    ]);
    const list = shape.conversation as Record<string, unknown>[];
    assert.equal(list.length, 3);
    assert.deepEqual(list[0], {
      conversationID: '2',
      external: 'false',
      startDate: at(0),
      lastActivity: at(1),
      messageCount: '2',
      participantList: ['alice@x', 'bob@x'],
      messages: {
        message: [
          {
            conversationID: '2',
            from: 'alice@x/web',
            to: 'bob@x',
            sentDate: at(0),
            body: 'hi',
            roomEvent: 'false',
          },
          {
            conversationID: '2',
            from: 'bob@x/phone',
            to: 'alice@x',
            sentDate: at(1),
            body: 'hi back',
            roomEvent: 'false',
          },
        ],
      },
    });
    assert.equal(list[1]!.chatRoom, 'team@c.x');
    assert.equal(list[1]!.participantList, 'team@c.x/carol', 'one participant collapses to a string');
    assert.equal(list[2]!.conversationID, '4');
  });

  it('answers errors and the ask queue as ofchat does', () => {
    assert.deepEqual(errorShape('xmpp connection not found'), {
      ressource: 'xmpp connection not found',
      message: 'Exception',
      exception: 'IllegalArgumentException',
    });
    assert.deepEqual(
      askQueueShape({
        workgroupJID: 'wg@workgroup.x',
        inQueue: true,
        available: false,
        queuePosition: 2,
        queueRemainingTime: -1,
        id: 'x',
      }),
      {
        workgroupJID: 'wg@workgroup.x',
        inQueue: 'true',
        available: 'false',
        queuePosition: '2',
        queueRemainingTime: '-1',
      },
    );
  });
});
