import assert from 'node:assert/strict';
import { JoinedRoom, SessionRooms, roomView } from '../../../src/rooms/RoomState.js';

const ROOM = 'team@conference.example.org';

describe('SessionRooms', () => {
  it('resolves a waiter with the first matching signal, and rejects on an error answer', async () => {
    const rooms = new SessionRooms();
    const joined = rooms.waitFor<boolean>(
      (s) => (s.room === ROOM && s.kind === 'self' ? { value: s.created } : undefined),
      1000,
      () => new Error('timeout'),
    );
    const refused = rooms.waitFor<void>(
      (s) => (s.kind === 'joinError' ? { error: new Error(s.error.condition) } : undefined),
      1000,
      () => undefined,
    );
    rooms.signal({ kind: 'self', room: 'other@conference.example.org', created: false });
    rooms.signal({ kind: 'self', room: ROOM, created: true });
    rooms.signal({ kind: 'joinError', room: ROOM, error: { condition: 'conflict' } });
    assert.equal(await joined, true);
    await assert.rejects(refused, /conflict/);
  });

  it('answers a waiter nobody signals with its timeout value', async () => {
    const rooms = new SessionRooms();
    assert.equal(
      await rooms.waitFor<string>(
        () => undefined,
        5,
        () => 'late',
      ),
      'late',
    );
  });

  it('records a watched signal for a later check, and forgets it after stop()', () => {
    const rooms = new SessionRooms();
    const w = rooms.watch<string>((s) =>
      s.kind === 'messageError' ? { value: s.error.condition } : undefined,
    );
    rooms.signal({
      kind: 'messageError',
      room: ROOM,
      messageId: 'm1',
      error: { condition: 'item-not-found' },
    });
    assert.equal(w.value, 'item-not-found');
    w.stop();
  });

  it('runs queued work one at a time, in order, even when one fails', async () => {
    const rooms = new SessionRooms();
    const seen: number[] = [];
    const slow = rooms.enqueue(async () => {
      await new Promise((r) => setTimeout(r, 10));
      seen.push(1);
    });
    const failing = rooms.enqueue(async () => {
      seen.push(2);
      throw new Error('boom');
    });
    const last = rooms.enqueue(async () => {
      seen.push(3);
    });
    await slow;
    await assert.rejects(failing);
    await last;
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it('on disconnect fails every waiter and marks every room for re-join', async () => {
    const rooms = new SessionRooms();
    const room = new JoinedRoom(ROOM, 'Alice', undefined, undefined, 20);
    Object.assign(room, { status: 'joined', role: 'moderator', affiliation: 'owner' });
    room.occupants.set('Alice', { nick: 'Alice', role: 'moderator', affiliation: 'owner' });
    rooms.rooms.set(ROOM, room);
    const pending = rooms.waitFor(
      () => undefined,
      1000,
      () => undefined,
    );
    rooms.disconnected(new Error('gone'));
    await assert.rejects(pending, /gone/);
    assert.deepEqual(roomView(room), {
      room: ROOM,
      nick: 'Alice',
      status: 'offline',
      role: 'moderator',
      affiliation: 'owner',
      subject: null,
      occupants: [],
    });
  });
});
