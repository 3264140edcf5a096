import type { Queryable } from '../store/db.js';
import type { SecretBox } from '../crypto/SecretBox.js';
import { SessionMemory } from '../sessions/SessionMemory.js';
import { JoinedRoom } from './RoomState.js';

interface Remembered {
  nick: string;
  passwordEnc: string | null;
  maxStanzas: number;
}

/**
 * The rooms each live session is in, durable, so a session restored after a gateway restart enters them
 * again. Room occupancy itself stays in memory (RoomState); this is only its outline, passwords sealed.
 */
export class RoomMemory {
  readonly #memory: SessionMemory<Remembered>;
  constructor(private readonly deps: { db: Queryable; box: Pick<SecretBox, 'seal' | 'open'> }) {
    this.#memory = new SessionMemory(deps.db, 'rooms');
  }

  remember(streamId: string, room: JoinedRoom): Promise<void> {
    return this.#memory.remember(streamId, room.jid, {
      nick: room.nick,
      passwordEnc: room.password === undefined ? null : this.deps.box.seal(room.password),
      maxStanzas: room.maxStanzas,
    });
  }

  forget(streamId: string, jid: string): Promise<void> {
    return this.#memory.forget(streamId, jid);
  }

  /** The session's rooms as not-yet-joined entries (status `offline`): the re-join after login enters them. */
  async recall(streamId: string): Promise<JoinedRoom[]> {
    return (await this.#memory.recall(streamId)).map(({ key, value }) => {
      const password = value.passwordEnc === null ? undefined : this.deps.box.open(value.passwordEnc);
      const room = new JoinedRoom(key, value.nick, password, undefined, value.maxStanzas);
      room.status = 'offline';
      return room;
    });
  }
}
