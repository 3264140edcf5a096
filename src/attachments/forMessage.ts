/**
 * What chat and rooms call when a message names uploaded files: the ids in the send JSON are checked
 * (the sender's own uploads only), the recipients are allowed to download them, and the message gets the
 * metadata (events, the data element) and a body for native clients when it had none.
 */
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import type { Queryable } from '../store/db.js';
import { AttachmentStore, type Grant } from './AttachmentStore.js';
import { toAttachment } from './AttachmentService.js';
import type { Attachment } from './oob.js';

export const MAX_ATTACHMENTS = 10;

/** The `attachments` field of a send JSON: ids returned by the upload route. */
export const AttachmentIds = z
  .array(z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a file id Parley issued'))
  .min(1)
  .max(MAX_ATTACHMENTS);

/** The ids in a send JSON, or undefined when it names none. Validation problems are 400s. */
export function attachmentIdsOf(json: unknown): string[] | undefined {
  const raw = (json as { attachments?: unknown } | null)?.attachments;
  if (raw === undefined) return undefined;
  const r = AttachmentIds.safeParse(raw);
  if (!r.success) {
    const errors = r.error.issues.map((i) => ({
      path: ['body', 'attachments', ...i.path.map(String)].join('.'),
      message: i.message,
    }));
    throw new BridgeError('VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
      errors,
    });
  }
  return r.data;
}

/** The port chat and rooms carry files through: the attachments feature alone owns the file tables. */
export interface MessageFiles {
  /** Resolves `ids` (the owner's own uploads) and lets `to` download them; 400 for an unknown id. */
  attach(owner: string, ids: readonly string[], to: Grant): Promise<Attachment[]>;
}

export const createMessageFiles = (db: Queryable): MessageFiles => ({
  attach: (owner, ids, to) => attachmentsForMessage(db, owner, ids, to),
});

/**
 * Resolves `ids` (which `owner` must have uploaded) and grants `to` read access. The grant is written
 * before the message leaves, so a recipient who follows the link at once is not refused.
 */
export async function attachmentsForMessage(
  db: Queryable,
  owner: string,
  ids: readonly string[],
  to: Grant,
): Promise<Attachment[]> {
  const store = new AttachmentStore(db);
  const rows = await store.owned(owner, ids);
  const missing = ids.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length) {
    throw new BridgeError(
      'VALIDATION_FAILED',
      `unknown file id(s): ${missing.join(', ')} (upload first, as the sender)`,
      {
        errors: missing.map((id) => ({
          path: `body.attachments.${ids.indexOf(id)}`,
          message: 'unknown file id',
        })),
      },
    );
  }
  await store.grant(ids, to);
  return rows.map(toAttachment);
}

/** The message's data with the file ids replaced by their metadata (what Parley recipients read back). */
export function withAttachmentData(data: unknown, attachments: readonly Attachment[]): unknown {
  const base = data && typeof data === 'object' && !Array.isArray(data) ? data : {};
  return { ...base, attachments };
}

/** XEP-0066 practice: a message that is only a file has the URL as its body, so clients show it inline. */
export const bodyForFiles = (attachments: readonly Attachment[]): string =>
  attachments.map((a) => a.url).join('\n');

/**
 * A 1:1 send JSON that names files, ready for ChatService.send: the body (the URLs when the JSON had none),
 * the data with the files' metadata, and the attachments for the OOB elements and events.
 */
export async function chatMessageWithFiles(
  files: MessageFiles,
  owner: string,
  json: unknown,
  fileIds: readonly string[],
  recipientBare: string,
  text: string | undefined,
): Promise<{ body: string; data: unknown; attachments: Attachment[] }> {
  const attachments = await files.attach(owner, fileIds, { kind: 'user', jid: recipientBare });
  return {
    body: text ?? bodyForFiles(attachments),
    data: withAttachmentData(json, attachments),
    attachments,
  };
}
