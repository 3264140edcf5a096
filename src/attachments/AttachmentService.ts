import { randomBytes } from 'node:crypto';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { AttachmentStore, FileRow } from './AttachmentStore.js';
import type { FileStore, Received } from './FileStore.js';
import type { Attachment } from './oob.js';
import { isAllowed, sniff, SNIFF_BYTES } from './sniff.js';
import { canThumbnail, makeThumbnail } from './thumbnails.js';
import { uploadViaXmpp } from './xep0363.js';
import type { UserSession } from '../xmpp/client/UserSession.js';

/** An upload as the API answers it. */
export interface UploadedFile extends Attachment {
  id: string;
  sha256: string;
  created: string;
}

export interface UploadLimits {
  maxUploadBytes: number;
  allowedTypes: readonly string[];
}

/**
 * Turns a received body into a stored attachment: sniff the type (415 when not allowed), move the bytes
 * into the content-addressed store, make a thumbnail for images, and record the upload.
 */
export class AttachmentService {
  constructor(
    private readonly deps: {
      store: AttachmentStore;
      files: FileStore;
      limits: UploadLimits;
      log: Log;
      domain: string;
    },
  ) {}

  get limits(): UploadLimits {
    return this.deps.limits;
  }

  /** `viaXmpp`: put the bytes on the XMPP server's XEP-0363 service instead of keeping them here. */
  async accept(
    owner: string,
    received: Received,
    clientName: string | undefined,
    baseUrl: string,
    viaXmpp?: UserSession,
  ): Promise<UploadedFile> {
    const { files, store } = this.deps;
    if (received.size === 0) {
      await files.discard(received.tmp);
      throw new BridgeError('VALIDATION_FAILED', 'the file is empty', {
        errors: [{ path: 'body', message: 'empty' }],
      });
    }
    const sniffed = await sniff(await files.head(received.tmp, SNIFF_BYTES));
    if (!isAllowed(sniffed.type, this.deps.limits.allowedTypes)) {
      await files.discard(received.tmp);
      throw new BridgeError(
        'UNSUPPORTED_MEDIA_TYPE',
        `files of type ${sniffed.type} (detected from the content) are not accepted here`,
      );
    }
    const id = randomBytes(16).toString('base64url');
    const name = safeName(clientName, sniffed.ext);
    if (viaXmpp) {
      try {
        const url = await uploadViaXmpp(viaXmpp, this.deps.domain, received.tmp, {
          filename: name,
          size: received.size,
          contentType: sniffed.type,
        });
        return toUploaded(
          await store.insert({
            id,
            owner,
            name,
            size: received.size,
            type: sniffed.type,
            sha256: received.sha256,
            thumbnail: null,
            url,
          }),
        );
      } finally {
        await files.discard(received.tmp);
      }
    }
    const path = await files.commit(received.tmp, received.sha256);
    const thumbBytes = canThumbnail(sniffed.type) ? await makeThumbnail(path) : undefined;
    const thumbnail = thumbBytes ? await files.put(thumbBytes) : null;
    const row = await store.insert({
      id,
      owner,
      name,
      size: received.size,
      type: sniffed.type,
      sha256: received.sha256,
      thumbnail,
      url: `${baseUrl}/files/${id}/${encodeURIComponent(name)}`,
    });
    this.deps.log.debug({ id, owner, type: row.type, size: row.size }, 'attachment stored');
    return toUploaded(row);
  }
}

export function toAttachment(row: FileRow): Attachment {
  return {
    url: row.url,
    name: row.name,
    size: row.size,
    type: row.type,
    ...(row.thumbnail ? { thumbnail: thumbnailUrl(row.url) } : {}),
  };
}

export const toUploaded = (row: FileRow): UploadedFile => ({
  id: row.id,
  ...toAttachment(row),
  sha256: row.sha256,
  created: row.createdAt.toISOString(),
});

/** `/files/{id}/{name}` → `/files/{id}/thumb/{name}` (same access rules). */
export const thumbnailUrl = (url: string): string =>
  url.replace(/\/files\/([^/]+)\/([^/]*)$/, '/files/$1/thumb/$2');

/**
 * A file name safe to put in a URL path and a Content-Disposition: no directories, no control characters,
 * at most 200 characters; missing or empty → `file.<ext of the sniffed type>`.
 */
export function safeName(raw: string | undefined, ext: string): string {
  const base = (raw ?? '')
    .split(/[\\/]/)
    .at(-1)!
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim()
    .replace(/^\.+/, '');
  const name = base.slice(0, 200);
  return name || `file.${ext}`;
}
