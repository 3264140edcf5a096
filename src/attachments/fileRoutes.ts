import type Router from '@koa/router';
import type { Context } from 'koa';
import { createReadStream } from 'node:fs';
import { BridgeError } from '../errors/BridgeError.js';
import { callerOf, type AccessDeps } from '../http/access.js';
import { parseUsername } from '../http/params.js';
import type { AttachmentStore, FileRow } from './AttachmentStore.js';
import type { FileStore } from './FileStore.js';
import { THUMBNAIL_TYPE } from './thumbnails.js';
import { contentDisposition, notModified, parseRange, rangeStillValid } from './ranges.js';

export interface FileRouteDeps {
  store: AttachmentStore;
  files: FileStore;
  domain: string;
  capabilityUrls: boolean;
}

/** Shown in the browser (inline); anything else is downloaded, never rendered on our origin. */
const INLINE = /^(image\/(png|jpeg|gif|webp|avif)|audio\/|video\/|application\/pdf$)/;

/**
 * GET /files/{id}/{name} and /files/{id}/thumb/{name}: the file server. Ranges (players seek, downloads
 * resume), strong ETags (the content hash: a file id never changes content), and access for the uploader,
 * recipients and room members — or, with PARLEY_FILES_CAPABILITY_URLS, for whoever holds the URL.
 */
export function fileRoutes(router: Router, access: AccessDeps, deps: FileRouteDeps): void {
  router.get('/files/:id/thumb/:name', async (ctx) => {
    const file = await readable(ctx, access, deps);
    if (!file.thumbnail) throw new BridgeError('NOT_FOUND', 'this file has no thumbnail');
    await send(ctx, deps.files, {
      sha256: file.thumbnail,
      type: THUMBNAIL_TYPE,
      name: `${file.name}.webp`,
      modified: file.createdAt,
    });
  });

  router.get('/files/:id/:name', async (ctx) => {
    const file = await readable(ctx, access, deps);
    await send(ctx, deps.files, {
      sha256: file.sha256,
      type: file.type,
      name: file.name,
      modified: file.createdAt,
    });
  });
}

/** The file row if the caller may read it: 401 without credentials, 404 unknown or removed, 403 not a party. */
async function readable(ctx: Context, access: AccessDeps, deps: FileRouteDeps): Promise<FileRow> {
  const id = ctx.params.id!;
  const file = /^[A-Za-z0-9_-]{22}$/.test(id) ? await deps.store.get(id) : undefined;
  if (deps.capabilityUrls) {
    if (!file || file.removedAt) throw new BridgeError('NOT_FOUND', 'no such file');
    return file;
  }
  const who = await readerOf(ctx, access);
  if (!file || file.removedAt) throw new BridgeError('NOT_FOUND', 'no such file');
  if (who !== 'master' && !(await deps.store.mayRead(file.id, who, `${who}@${deps.domain}`))) {
    throw new BridgeError(
      'FORBIDDEN',
      'only the sender, the recipients and members of the room may download this file',
    );
  }
  return file;
}

/** Who is asking: the master secret, or a user proven by Basic credentials or a session token. */
async function readerOf(ctx: Context, access: AccessDeps): Promise<'master' | string> {
  const caller = callerOf(ctx);
  switch (caller.kind) {
    case 'master':
      return 'master';
    case 'anonymous':
      throw new BridgeError('UNAUTHENTICATED', 'send a session token or Basic credentials');
    case 'basic': {
      const name = parseUsername(caller.username);
      if (!(await access.verifier.verify(name, caller.password)))
        throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
      return name;
    }
    case 'token': {
      const owner = await access.sessions.tokenOwner(caller);
      if (!owner || owner.ended) throw new BridgeError('BAD_CREDENTIALS', 'unknown or expired session token');
      return owner.username;
    }
  }
}

async function send(
  ctx: Context,
  files: FileStore,
  f: { sha256: string; type: string; name: string; modified: Date },
): Promise<void> {
  const size = await files.size(f.sha256);
  if (size === undefined) throw new BridgeError('NOT_FOUND', 'the file is no longer stored');
  const etag = `"${f.sha256}"`;
  const lastModified = f.modified.toUTCString();
  ctx.set('ETag', etag);
  ctx.set('Last-Modified', lastModified);
  // Private: access-controlled; immutable: an id's bytes never change, so clients need not revalidate.
  ctx.set('Cache-Control', 'private, max-age=31536000, immutable');
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('X-Content-Type-Options', 'nosniff');
  // Uploaded content must never run as a page of this origin (the API and its tokens live here).
  ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
  ctx.set('Content-Disposition', contentDisposition(INLINE.test(f.type) ? 'inline' : 'attachment', f.name));
  if (notModified(ctx.headers, { etag, lastModified })) {
    ctx.status = 304;
    return;
  }
  const range = rangeStillValid(ctx.get('If-Range') || undefined, etag)
    ? parseRange(ctx.get('Range') || undefined, size)
    : { kind: 'full' as const };
  if (range.kind === 'unsatisfiable') {
    // 416 has no row in the error table: it is a file-server answer, with the size in Content-Range.
    ctx.set('Content-Range', `bytes */${size}`);
    ctx.status = 416;
    return;
  }
  ctx.type = f.type;
  if (range.kind === 'partial') {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    ctx.length = range.end - range.start + 1;
    ctx.body = createReadStream(files.pathOf(f.sha256), { start: range.start, end: range.end });
    return;
  }
  ctx.status = 200;
  ctx.length = size;
  ctx.body = createReadStream(files.pathOf(f.sha256));
}
