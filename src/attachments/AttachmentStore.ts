import type { Queryable } from '../store/db.js';
import type { RoomReader } from '../messages/MessageLog.js';

/** One upload as Postgres keeps it (migration 0009). */
export interface FileRow {
  id: string;
  owner: string;
  name: string;
  size: number;
  type: string;
  sha256: string;
  url: string;
  thumbnail: string | null;
  createdAt: Date;
  removedAt: Date | null;
}

export type Grant = { kind: 'user' | 'room'; jid: string };

interface Row {
  id: string;
  owner: string;
  name: string;
  size: string;
  type: string;
  sha256: string;
  url: string;
  thumbnail: string | null;
  created_at: Date;
  removed_at: Date | null;
}
const toFile = (r: Row): FileRow => ({
  id: r.id,
  owner: r.owner,
  name: r.name,
  size: Number(r.size),
  type: r.type,
  sha256: r.sha256,
  url: r.url,
  thumbnail: r.thumbnail,
  createdAt: r.created_at,
  removedAt: r.removed_at,
});

/** SQL of the attachments feature: file rows, who may read them, and the access check. */
export class AttachmentStore {
  constructor(
    private readonly db: Queryable,
    /** room membership for mayRead, from the message log (who holds the room's messages) */
    private readonly messages?: Pick<RoomReader, 'holdsRoomFile'>,
  ) {}

  async insert(f: Omit<FileRow, 'createdAt' | 'removedAt'>): Promise<FileRow> {
    const { rows } = await this.db.query<Row>(
      `INSERT INTO attachments (id, owner, name, size, type, sha256, url, thumbnail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [f.id, f.owner, f.name, f.size, f.type, f.sha256, f.url, f.thumbnail],
    );
    return toFile(rows[0]!);
  }

  /** Live video and audio files compression has not been tried on yet, oldest first. */
  async compressible(limit: number): Promise<{ id: string; type: string; size: number }[]> {
    const { rows } = await this.db.query<{ id: string; type: string; size: string }>(
      `SELECT id, type, size FROM attachments
        WHERE removed_at IS NULL AND compress_tried_at IS NULL AND (type LIKE 'video/%' OR type LIKE 'audio/%')
        ORDER BY created_at, id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ id: r.id, type: r.type, size: Number(r.size) }));
  }

  async compressTried(id: string): Promise<void> {
    await this.db.query('UPDATE attachments SET compress_tried_at = now() WHERE id = $1', [id]);
  }

  async get(id: string): Promise<FileRow | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM attachments WHERE id = $1', [id]);
    return rows[0] && toFile(rows[0]);
  }

  /** The caller's own files among `ids`, in the order asked (others' files are simply absent). */
  async owned(owner: string, ids: readonly string[]): Promise<FileRow[]> {
    const { rows } = await this.db.query<Row>(
      'SELECT * FROM attachments WHERE owner = $1 AND id = ANY($2::text[]) AND removed_at IS NULL',
      [owner, ids],
    );
    const byId = new Map(rows.map((r) => [r.id, toFile(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** Bytes of the owner's live uploads (the upload quota). */
  async bytesOf(owner: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string | null }>(
      'SELECT sum(size) AS n FROM attachments WHERE owner = $1 AND removed_at IS NULL',
      [owner],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Does a live upload still use these bytes (as its file or its thumbnail)? Then they stay on disk. */
  async inUse(sha256: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'SELECT 1 FROM attachments WHERE removed_at IS NULL AND (sha256 = $1 OR thumbnail = $1) LIMIT 1',
      [sha256],
    );
    return rows.length > 0;
  }

  async grant(ids: readonly string[], to: Grant): Promise<void> {
    if (!ids.length) return;
    await this.db.query(
      `INSERT INTO attachment_grants (attachment_id, grantee, kind) SELECT unnest($1::text[]), $2, $3 ON CONFLICT DO NOTHING`,
      [ids, to.jid.toLowerCase(), to.kind],
    );
  }

  /**
   * May `username` (bare JID `bare`) read file `id`? The uploader; a recipient it was sent to; or someone
   * who was in the room it was posted in when it was posted (their Parley history holds that very message)
   * and has not been banned from the room since (the room told their session so, status 301, after the
   * last message they got from it). Joining a room later gives no access to files posted before.
   */
  async mayRead(id: string, username: string, bare: string): Promise<boolean> {
    const { rows } = await this.db.query<{
      mine: boolean;
      granted: boolean;
      rooms: string[] | null;
      url: string;
    }>(
      `SELECT a.owner = $2 AS mine,
              EXISTS (SELECT 1 FROM attachment_grants g WHERE g.attachment_id = a.id AND g.kind = 'user' AND g.grantee = $3) AS granted,
              a.url,
              (SELECT array_agg(g.grantee) FROM attachment_grants g WHERE g.attachment_id = a.id AND g.kind = 'room') AS rooms
         FROM attachments a WHERE a.id = $1`,
      [id, username, bare.toLowerCase()],
    );
    const r = rows[0];
    if (!r) return false;
    if (r.mine || r.granted || !r.rooms?.length) return r.mine || r.granted;
    // Only a room grant left: ask the message log (a second round trip, on this path only).
    if (!this.messages) throw new Error('AttachmentStore.mayRead needs the message log for room grants');
    return this.messages.holdsRoomFile(username, r.rooms, r.url);
  }
}
