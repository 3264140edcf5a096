import type pg from 'pg';
import { withTransaction, type Pool, type Queryable } from '../store/db.js';

/** A bridged chat (a row of bbb_meetings that has not ended). */
export interface Meeting {
  id: string;
  /** the id the API caller started the chat with; runningChats lists it */
  registeredId: string;
  externalId?: string;
  internalId?: string;
  apiVersion: 1 | 2;
  chatUser: string;
  bridgeUserId?: string;
  callback?: { uri: string; secretEnc: string; id?: string };
  roomJid: string;
}

export interface Participant {
  userId: string;
  name: string;
}

export type NewMeeting = Omit<Meeting, 'id' | 'bridgeUserId'>;

export interface NewMessage {
  meeting: string;
  origin: 'bbb' | 'xmpp' | 'api';
  senderId?: string;
  senderName: string;
  message: string;
  /** GroupChatMsgToUser.id of a BBB broadcast */
  bbbMessageId?: string;
}

interface Row {
  id: string;
  registered_id: string;
  external_id: string | null;
  internal_id: string | null;
  api_version: number;
  chat_user: string;
  bridge_user_id: string | null;
  callback_uri: string | null;
  callback_secret_enc: string | null;
  callback_id: string | null;
  room_jid: string;
}

const toMeeting = (r: Row): Meeting => ({
  id: String(r.id),
  registeredId: r.registered_id,
  externalId: r.external_id ?? undefined,
  internalId: r.internal_id ?? undefined,
  apiVersion: r.api_version === 1 ? 1 : 2,
  chatUser: r.chat_user,
  bridgeUserId: r.bridge_user_id ?? undefined,
  callback:
    r.callback_uri && r.callback_secret_enc
      ? { uri: r.callback_uri, secretEnc: r.callback_secret_enc, id: r.callback_id ?? undefined }
      : undefined,
  roomJid: r.room_jid,
});

/** SQL for bbb_meetings, bbb_participants and bbb_messages (0006_bbb.sql). */
export class MeetingStore {
  constructor(private readonly db: Pool) {}

  async active(): Promise<Meeting[]> {
    const { rows } = await this.db.query<Row>(
      'SELECT * FROM bbb_meetings WHERE ended_at IS NULL ORDER BY id',
    );
    return rows.map(toMeeting);
  }

  /** undefined when a live chat already has this id (the partial unique index decides, across instances too). */
  async insert(m: NewMeeting): Promise<Meeting | undefined> {
    const { rows } = await this.db.query<Row>(
      `INSERT INTO bbb_meetings (registered_id, external_id, internal_id, api_version, chat_user, callback_uri, callback_secret_enc, callback_id, room_jid)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING *`,
      [
        m.registeredId,
        m.externalId ?? null,
        m.internalId ?? null,
        m.apiVersion,
        m.chatUser,
        m.callback?.uri ?? null,
        m.callback?.secretEnc ?? null,
        m.callback?.id ?? null,
        m.roomJid,
      ],
    );
    return rows[0] && toMeeting(rows[0]);
  }

  /** Ends the chat; its callback secret goes (callbacks already queued carry their own sealed copy). */
  async end(id: string, reason: string): Promise<boolean> {
    const res = await this.db.query(
      `UPDATE bbb_meetings SET ended_at = now(), end_reason = $2, callback_secret_enc = NULL, bridge_user_id = NULL
       WHERE id = $1 AND ended_at IS NULL`,
      [id, reason],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async bindInternal(id: string, internalId: string): Promise<void> {
    await this.db.query('UPDATE bbb_meetings SET internal_id = $2 WHERE id = $1 AND internal_id IS NULL', [
      id,
      internalId,
    ]);
  }

  async setBridgeUser(id: string, userId: string | null): Promise<void> {
    await this.db.query('UPDATE bbb_meetings SET bridge_user_id = $2 WHERE id = $1', [id, userId]);
  }

  async participantJoined(meeting: string, p: Participant): Promise<void> {
    await this.db.query(
      `INSERT INTO bbb_participants (meeting, user_id, name) VALUES ($1, $2, $3)
       ON CONFLICT (meeting, user_id) DO UPDATE SET name = excluded.name, joined_at = now(), left_at = NULL`,
      [meeting, p.userId, p.name],
    );
  }

  async participantLeft(meeting: string, userId: string): Promise<void> {
    await this.db.query('UPDATE bbb_participants SET left_at = now() WHERE meeting = $1 AND user_id = $2', [
      meeting,
      userId,
    ]);
  }

  async present(meeting: string): Promise<Participant[]> {
    const { rows } = await this.db.query<{ user_id: string; name: string }>(
      'SELECT user_id, name FROM bbb_participants WHERE meeting = $1 AND left_at IS NULL ORDER BY joined_at',
      [meeting],
    );
    return rows.map((r) => ({ userId: r.user_id, name: r.name }));
  }

  /** Inside a transaction; undefined when this BBB message id was already stored (a duplicate event). */
  async insertMessage(tx: Queryable, m: NewMessage): Promise<string | undefined> {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO bbb_messages (meeting, origin, sender_id, sender_name, message, bbb_message_id)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id`,
      [m.meeting, m.origin, m.senderId ?? null, m.senderName, m.message, m.bbbMessageId ?? null],
    );
    return rows[0] && String(rows[0].id);
  }

  transaction<T>(fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.db, fn);
  }
}
