import { randomBytes } from 'node:crypto';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { AttachmentStore, FileRow } from './AttachmentStore.js';
import type { FileStore, Received } from './FileStore.js';
import type { Attachment } from './oob.js';
import { isAllowed, sniff, SNIFF_BYTES } from './sniff.js';
import { canThumbnail, pixelsOf, type Thumbnailer } from './thumbnails.js';
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
  /** bytes of live uploads one user may hold (PARLEY_UPLOAD_QUOTA_BYTES) */
  quotaBytes?: number;
  /** width × height beyond which an image is refused (PARLEY_MAX_IMAGE_PIXELS) */
  maxImagePixels?: number;
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
      thumbnails: Thumbnailer;
    },
  ) {}

  /** Per owner, the upload being recorded: one at a time, so the quota check sees every earlier upload. */
  readonly #owners = new Map<string, Promise<unknown>>();

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
    const { files } = this.deps;
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
    try {
      await this.#checkPixels(received.tmp, sniffed.type);
    } catch (err) {
      await files.discard(received.tmp);
      throw err;
    }
    return this.#oneAtATime(owner, async () => {
      try {
        await this.#checkQuota(owner, received.size);
      } catch (err) {
        await files.discard(received.tmp);
        throw err;
      }
      return this.#store(owner, received, sniffed, clientName, baseUrl, viaXmpp);
    });
  }

  /** Runs `fn` after the owner's previous upload was recorded (or failed). */
  #oneAtATime<T>(owner: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#owners.get(owner) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#owners.set(owner, tail);
    void tail.then(() => {
      if (this.#owners.get(owner) === tail) this.#owners.delete(owner);
    });
    return run;
  }

  async #checkPixels(path: string, type: string): Promise<void> {
    const max = this.deps.limits.maxImagePixels;
    if (max === undefined || !canThumbnail(type)) return;
    const size = await pixelsOf(path);
    if (size && size.width * size.height > max)
      throw new BridgeError(
        'IMAGE_TOO_LARGE',
        `the image is ${size.width}×${size.height} (${size.width * size.height} pixels); at most ${max} pixels are accepted`,
      );
  }

  /** 413 when `size` more bytes would take the owner past the quota. */
  async #checkQuota(owner: string, size: number): Promise<void> {
    const quota = this.deps.limits.quotaBytes;
    if (quota === undefined) return;
    const used = await this.deps.store.bytesOf(owner);
    if (used + size > quota)
      throw new BridgeError(
        'UPLOAD_QUOTA_EXCEEDED',
        `this upload (${size} bytes) would take your files past the ${quota}-byte quota (${used} bytes in use); remove some first`,
      );
  }

  async #store(
    owner: string,
    received: Received,
    sniffed: { type: string; ext: string },
    clientName: string | undefined,
    baseUrl: string,
    viaXmpp: UserSession | undefined,
  ): Promise<UploadedFile> {
    const { files, store } = this.deps;
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
    const thumbBytes = canThumbnail(sniffed.type) ? await this.deps.thumbnails.make(path) : undefined;
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
