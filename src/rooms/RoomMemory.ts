import type { Queryable } from '../store/db.js';
import type { SecretBox } from '../crypto/SecretBox.js';
import { JoinedRoom } from './RoomState.js';

/**
 * The rooms each live session is in (session_rooms), so a session restored after a gateway restart
 * enters them again. Room occupancy itself stays in memory (RoomState); this is only its durable outline.
 * Rows go with the session when it ends (SessionStore.setState offline).
 */
export class RoomMemory {
  constructor(private readonly deps: { db: Queryable; box: Pick<SecretBox, 'seal' | 'open'> }) {}

  async remember(streamId: string, room: JoinedRoom): Promise<void> {
    await this.deps.db.query(
      `INSERT INTO session_rooms (stream_id, room, nick, password_enc, max_stanzas) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (stream_id, room) DO UPDATE SET nick = EXCLUDED.nick, password_enc = EXCLUDED.password_enc, max_stanzas = EXCLUDED.max_stanzas`,
      [streamId, room.jid, room.nick, room.password === undefined ? null : this.deps.box.seal(room.password), room.maxStanzas]);
  }

  async forget(streamId: string, jid: string): Promise<void> {
    await this.deps.db.query('DELETE FROM session_rooms WHERE stream_id = $1 AND room = $2', [streamId, jid]);
  }

  /** The session's rooms as not-yet-joined entries (status `offline`): the re-join after login enters them. */
  async recall(streamId: string): Promise<JoinedRoom[]> {
    const { rows } = await this.deps.db.query<{ room: string; nick: string; password_enc: string | null; max_stanzas: number }>(
      'SELECT room, nick, password_enc, max_stanzas FROM session_rooms WHERE stream_id = $1', [streamId]);
    return rows.map((r) => {
      const room = new JoinedRoom(r.room, r.nick, r.password_enc === null ? undefined : this.deps.box.open(r.password_enc), undefined, r.max_stanzas);
      room.status = 'offline';
      return room;
    });
  }
}
