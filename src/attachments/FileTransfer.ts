/**
 * The port site sync (src/sync) moves files between deployments through: find a file this Parley stores
 * (to send its bytes), store bytes that came from the other deployment (sniffed and bounded like an
 * upload), and let a recipient read them. The file tables and the content-addressed store stay here.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { BridgeError } from '../errors/BridgeError.js';
import type { Queryable } from '../store/db.js';
import { AttachmentStore, type Grant } from './AttachmentStore.js';
import { safeName, toAttachment, type UploadLimits } from './AttachmentService.js';
import { FileStore } from './FileStore.js';
import type { Attachment } from './oob.js';
import { isAllowed, sniff, SNIFF_BYTES } from './sniff.js';

export interface LocalFile {
  id: string;
  name: string;
  type: string;
  size: number;
  sha256: string;
  open(): Readable;
}

export interface FileTransfer {
  /** A live file of this Parley by its id, or by a `<base>/files/{id}/{name}` URL it handed out. */
  find(idOrUrl: string): Promise<LocalFile | undefined>;
  /**
   * Stores bytes from elsewhere as `owner` (415 for a type not allowed here, 413 past the upload limit;
   * 400 when `sha256` is given and the bytes do not match it).
   */
  receive(
    source: Readable,
    meta: { owner: string; name: string; sha256?: string },
  ): Promise<{ id: string; attachment: Attachment }>;
  /** Lets `to` download these files (the recipient of the message that carries them). */
  grant(ids: readonly string[], to: Grant): Promise<void>;
}

export function createFileTransfer(deps: {
  db: Queryable;
  dir: string;
  /** PARLEY_PUBLIC_URL: received files are linked from messages delivered outside any request */
  publicUrl: string;
  limits: Pick<UploadLimits, 'maxUploadBytes' | 'allowedTypes'>;
}): FileTransfer {
  const files = new FileStore(deps.dir);
  const store = new AttachmentStore(deps.db);
  const base = deps.publicUrl.replace(/\/+$/, '');
  return {
    async find(idOrUrl) {
      const id = /\/files\/([A-Za-z0-9_-]{22})\/[^/]*$/.exec(idOrUrl)?.[1] ?? idOrUrl;
      if (!/^[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
      if (idOrUrl !== id && !idOrUrl.startsWith(`${base}/files/`)) return undefined;
      const row = await store.get(id);
      // A file passed on to the XMPP server's upload service (?via=xmpp) has no bytes here.
      if (!row || row.removedAt || !row.url.startsWith(`${base}/files/`)) return undefined;
      return {
        id: row.id,
        name: row.name,
        type: row.type,
        size: row.size,
        sha256: row.sha256,
        open: () => createReadStream(files.pathOf(row.sha256)),
      };
    },
    async receive(source, meta) {
      await files.init();
      const received = await files.receive(source, deps.limits.maxUploadBytes);
      if (meta.sha256 && meta.sha256 !== received.sha256) {
        await files.discard(received.tmp);
        throw new BridgeError('BAD_REQUEST', 'the file does not match its announced SHA-256 (cut short?)');
      }
      const sniffed = await sniff(await files.head(received.tmp, SNIFF_BYTES));
      if (!isAllowed(sniffed.type, deps.limits.allowedTypes)) {
        await files.discard(received.tmp);
        throw new BridgeError(
          'UNSUPPORTED_MEDIA_TYPE',
          `files of type ${sniffed.type} are not accepted here`,
        );
      }
      await files.commit(received.tmp, received.sha256);
      const id = randomBytes(16).toString('base64url');
      const name = safeName(meta.name, sniffed.ext);
      const row = await store.insert({
        id,
        owner: meta.owner,
        name,
        size: received.size,
        type: sniffed.type,
        sha256: received.sha256,
        thumbnail: null,
        url: `${base}/files/${id}/${encodeURIComponent(name)}`,
      });
      return { id, attachment: toAttachment(row) };
    },
    grant: (ids, to) => store.grant(ids, to),
  };
}

/**
 * The upload limits as one mutable object shared by the upload routes and whoever may change them at run
 * time (site sync applies the host's): starts from PARLEY_MAX_UPLOAD_BYTES and PARLEY_ALLOWED_TYPES.
 */
export type UploadPolicy = Pick<UploadLimits, 'maxUploadBytes' | 'allowedTypes'>;

export const createUploadPolicy = (files: {
  maxUploadBytes: number;
  allowedTypes: readonly string[];
}): UploadPolicy => ({ maxUploadBytes: files.maxUploadBytes, allowedTypes: [...files.allowedTypes] });
