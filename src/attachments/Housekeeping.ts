import type pg from 'pg';
import { withTransaction } from '../store/db.js';
import type { AttachmentStore } from './AttachmentStore.js';
import type { FileStore } from './FileStore.js';
import type { MessageMaintenance } from '../messages/MessageLog.js';

export interface CleanupResult {
  removed: number;
  freedBytes: number;
  messagesUpdated: number;
}

/**
 * Moodle chat_attachments' clean_up, for Parley: files uploaded more than `days` ago are deleted and every
 * stored message that carried them keeps a placeholder (`removed: true`, no thumbnail) in its event, so
 * history and replay show "file removed" instead of a dead link. Bytes shared with a newer upload of the
 * same content stay on disk until that one goes too.
 */
export class Housekeeping {
  constructor(
    private readonly deps: {
      db: pg.Pool;
      files: FileStore;
      store: AttachmentStore;
      messages: Pick<MessageMaintenance, 'patchAttachments'>;
    },
  ) {}

  async removeOlderThan(days: number, now = new Date()): Promise<CleanupResult> {
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const { gone, messagesUpdated } = await withTransaction(this.deps.db, async (tx) => {
      const { rows } = await tx.query<{ url: string; sha256: string; thumbnail: string | null }>(
        `UPDATE attachments SET removed_at = now() WHERE created_at < $1 AND removed_at IS NULL RETURNING url, sha256, thumbnail`,
        [cutoff],
      );
      if (!rows.length) return { gone: rows, messagesUpdated: 0 };
      const messagesUpdated = await this.deps.messages.patchAttachments(
        rows.map((r) => r.url),
        { removed: true },
        ['thumbnail'],
        tx,
      );
      return { gone: rows, messagesUpdated };
    });
    let freedBytes = 0;
    const hashes = new Set(gone.flatMap((r) => (r.thumbnail ? [r.sha256, r.thumbnail] : [r.sha256])));
    for (const sha of hashes) {
      if (await this.deps.store.inUse(sha)) continue;
      freedBytes += (await this.deps.files.size(sha)) ?? 0;
      await this.deps.files.remove(sha);
    }
    return { removed: gone.length, freedBytes, messagesUpdated };
  }
}
