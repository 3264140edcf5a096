import type { Queryable } from '../store/db.js';
import type { Attachment } from '../attachments/index.js';
import type { SyncMessage, SyncSettings, VersionedSettings } from './wire.js';

export interface OutboxRow {
  seq: number;
  message: SyncMessage;
}

export interface ReceivedFile {
  localId: string;
  attachment: Attachment;
}

/** The sync feature's SQL (migration 0013): outbox, inbox (the dedupe record), received files, settings, cursor. */
export class SyncStore {
  constructor(private readonly db: Queryable) {}

  /** Queues a message for `peer`; false when a message with this id is already queued (written once). */
  async enqueue(peer: string, m: SyncMessage): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'INSERT INTO sync_outbox (peer, id, payload) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
      [peer, m.id, JSON.stringify(m)],
    );
    return rowCount === 1;
  }

  /** The oldest messages still waiting for `peer`, in the order they were written. */
  async pending(peer: string, limit: number, after = 0): Promise<OutboxRow[]> {
    const { rows } = await this.db.query<{ seq: string; payload: SyncMessage }>(
      'SELECT seq, payload FROM sync_outbox WHERE peer = $1 AND sent_at IS NULL AND seq > $2 ORDER BY seq LIMIT $3',
      [peer, after, limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), message: r.payload }));
  }

  async markSent(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    await this.db.query(
      'UPDATE sync_outbox SET sent_at = now() WHERE id = ANY($1::text[]) AND sent_at IS NULL',
      [ids],
    );
  }

  /** The site collected everything up to `seq`: those rows are done. */
  async ackThrough(peer: string, seq: number): Promise<void> {
    await this.db.query(
      'UPDATE sync_outbox SET sent_at = now() WHERE peer = $1 AND seq <= $2 AND sent_at IS NULL',
      [peer, seq],
    );
  }

  async countPending(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM sync_outbox WHERE sent_at IS NULL',
    );
    return Number(rows[0]!.n);
  }

  /** Does a message waiting for `peer` carry the file `ref`? (Only those may be downloaded by that peer.) */
  async offersFile(peer: string, ref: string): Promise<boolean> {
    const { rows } = await this.db.query(
      `SELECT 1 FROM sync_outbox WHERE peer = $1 AND payload->'files' @> jsonb_build_array(jsonb_build_object('ref', $2::text)) LIMIT 1`,
      [peer, ref],
    );
    return rows.length > 0;
  }

  /** Records a received message; false when its id was received before (it is then not delivered again). */
  async receive(origin: string, m: SyncMessage): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'INSERT INTO sync_inbox (id, origin, payload, received_at) VALUES ($1, $2, $3, clock_timestamp()) ON CONFLICT (id) DO NOTHING',
      [m.id, origin, JSON.stringify(m)],
    );
    return rowCount === 1;
  }

  async undelivered(limit: number): Promise<{ origin: string; message: SyncMessage }[]> {
    const { rows } = await this.db.query<{ origin: string; payload: SyncMessage }>(
      'SELECT origin, payload FROM sync_inbox WHERE delivered_at IS NULL ORDER BY received_at, id LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({ origin: r.origin, message: r.payload }));
  }

  async markDelivered(id: string): Promise<void> {
    await this.db.query('UPDATE sync_inbox SET delivered_at = now() WHERE id = $1', [id]);
  }

  async countUndelivered(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM sync_inbox WHERE delivered_at IS NULL',
    );
    return Number(rows[0]!.n);
  }

  async file(origin: string, ref: string): Promise<ReceivedFile | undefined> {
    const { rows } = await this.db.query<{ local_id: string; attachment: Attachment }>(
      'SELECT local_id, attachment FROM sync_files WHERE origin = $1 AND ref = $2',
      [origin, ref],
    );
    return rows[0] && { localId: rows[0].local_id, attachment: rows[0].attachment };
  }

  /** Remembers a received file; when two calls raced, the first stored wins and is returned. */
  async rememberFile(origin: string, ref: string, f: ReceivedFile): Promise<ReceivedFile> {
    await this.db.query(
      'INSERT INTO sync_files (origin, ref, local_id, attachment) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [origin, ref, f.localId, JSON.stringify(f.attachment)],
    );
    return (await this.file(origin, ref))!;
  }

  async settings(scope: 'published' | 'applied'): Promise<VersionedSettings> {
    const { rows } = await this.db.query<{ version: string; settings: SyncSettings }>(
      'SELECT version, settings FROM sync_settings WHERE scope = $1',
      [scope],
    );
    return rows[0]
      ? { version: Number(rows[0].version), settings: rows[0].settings }
      : { version: 0, settings: {} };
  }

  /** Host: a new published document, one version up. */
  async publish(settings: SyncSettings): Promise<VersionedSettings> {
    const { rows } = await this.db.query<{ version: string }>(
      `INSERT INTO sync_settings (scope, version, settings) VALUES ('published', 1, $1)
       ON CONFLICT (scope) DO UPDATE SET version = sync_settings.version + 1, settings = EXCLUDED.settings, updated_at = now()
       RETURNING version`,
      [JSON.stringify(settings)],
    );
    return { version: Number(rows[0]!.version), settings };
  }

  /** Site: what it applied (never goes back to an older version). */
  async applied(v: VersionedSettings): Promise<void> {
    await this.db.query(
      `INSERT INTO sync_settings (scope, version, settings) VALUES ('applied', $1, $2)
       ON CONFLICT (scope) DO UPDATE SET version = EXCLUDED.version, settings = EXCLUDED.settings, updated_at = now()
       WHERE sync_settings.version < EXCLUDED.version`,
      [v.version, JSON.stringify(v.settings)],
    );
  }

  async cursor(peer: string): Promise<{ after: number; contactedAt: Date | null }> {
    const { rows } = await this.db.query<{ after_seq: string; contacted_at: Date | null }>(
      'SELECT after_seq, contacted_at FROM sync_cursor WHERE peer = $1',
      [peer],
    );
    return { after: Number(rows[0]?.after_seq ?? 0), contactedAt: rows[0]?.contacted_at ?? null };
  }

  async advance(peer: string, after: number): Promise<void> {
    await this.db.query(
      `INSERT INTO sync_cursor (peer, after_seq, contacted_at) VALUES ($1, $2, now())
       ON CONFLICT (peer) DO UPDATE SET after_seq = GREATEST(sync_cursor.after_seq, EXCLUDED.after_seq), contacted_at = now()`,
      [peer, after],
    );
  }
}
