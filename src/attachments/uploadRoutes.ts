import type Router from '@koa/router';
import type { Context } from 'koa';
import formidable from 'formidable';
import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { BridgeError } from '../errors/BridgeError.js';
import { requireStream, type AccessDeps } from '../http/access.js';
import type { AttachmentService } from './AttachmentService.js';
import type { FileStore, Received } from './FileStore.js';

/**
 * POST /restapi/v1/chat/{streamid}/files: multipart/form-data (field `file`, optional field `name`) or the
 * raw bytes with any Content-Type (name from `?name=`). The body is streamed to disk (body.ts leaves this
 * path alone), so a large upload never sits in memory; beyond the limit it is cut off with a 413.
 * `?via=xmpp` passes the file on to the XMPP server's XEP-0363 upload service instead of keeping it here.
 */
export function uploadRoutes(
  router: Router,
  access: AccessDeps,
  deps: { service: AttachmentService; files: FileStore; baseUrl: (ctx: Context) => string },
): void {
  router.post('/restapi/v1/chat/:streamid/files', async (ctx) => {
    const max = deps.service.limits.maxUploadBytes;
    try {
      const session = await requireStream(ctx, access, ctx.params.streamid!);
      const via = ctx.query.via;
      if (via !== undefined && via !== 'xmpp')
        throw new BridgeError('VALIDATION_FAILED', '?via= may only be "xmpp"', {
          errors: [{ path: 'query.via', message: 'expected xmpp' }],
        });
      const declared = Number(ctx.get('Content-Length'));
      if (Number.isFinite(declared) && declared > max + MULTIPART_OVERHEAD) {
        throw new BridgeError('BODY_TOO_LARGE', `the file exceeds the ${max}-byte upload limit`);
      }
      const { received, name } = ctx.is('multipart/form-data')
        ? await receiveMultipart(ctx, deps.files, max)
        : await receiveRaw(ctx, deps.files, max);
      const file = await deps.service.accept(
        session.username,
        received,
        name,
        deps.baseUrl(ctx),
        via === 'xmpp' ? session : undefined,
      );
      ctx.status = 201;
      ctx.set('Location', file.url);
      ctx.body = file;
    } catch (err) {
      // Read and drop what the client is still sending, so it gets our answer instead of a reset.
      if (!ctx.req.readableEnded) {
        ctx.set('Connection', 'close');
        ctx.req.resume();
      }
      throw err;
    }
  });
}

/** Room for multipart boundaries and the `name` field on top of the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

async function receiveRaw(
  ctx: Context,
  files: FileStore,
  max: number,
): Promise<{ received: Received; name?: string }> {
  if (!ctx.get('Content-Type'))
    throw new BridgeError(
      'UNSUPPORTED_MEDIA_TYPE',
      'send multipart/form-data, or the file with a Content-Type',
    );
  const q = ctx.query.name;
  const name = typeof q === 'string' && q ? q : undefined;
  return { received: await files.receive(ctx.req, max), name };
}

async function receiveMultipart(
  ctx: Context,
  files: FileStore,
  max: number,
): Promise<{ received: Received; name?: string }> {
  const written: string[] = [];
  const form = formidable({
    uploadDir: files.tmpDir,
    filename: () => randomUUID(),
    hashAlgorithm: 'sha256',
    maxFiles: 1,
    maxFileSize: max,
    maxTotalFileSize: max,
    minFileSize: 1,
    allowEmptyFiles: false,
    maxFields: 10,
    maxFieldsSize: 16 * 1024,
  });
  form.on('fileBegin', (_field, file) => written.push(file.filepath));
  try {
    const [fields, parts] = await form.parse(ctx.req);
    const file = parts.file?.[0];
    if (!file)
      throw new BridgeError('VALIDATION_FAILED', 'the multipart body has no part named "file"', {
        errors: [{ path: 'body.file', message: 'required' }],
      });
    for (const p of written) if (p !== file.filepath) await unlink(p).catch(() => undefined);
    const name = fields.name?.[0] || file.originalFilename || undefined;
    return { received: { tmp: file.filepath, size: file.size, sha256: String(file.hash) }, name };
  } catch (err) {
    for (const p of written) await unlink(p).catch(() => undefined);
    throw toBridgeError(err, max);
  }
}

function toBridgeError(err: unknown, max: number): unknown {
  if (err instanceof BridgeError) return err;
  const e = err as { httpCode?: number; code?: number; message?: string };
  if (
    e.httpCode === 413 ||
    e.code === formidable.errors.biggerThanTotalMaxFileSize ||
    e.code === formidable.errors.biggerThanMaxFileSize
  ) {
    return new BridgeError('BODY_TOO_LARGE', `the file exceeds the ${max}-byte upload limit`);
  }
  if (e.httpCode && e.httpCode < 500)
    return new BridgeError(
      'BAD_REQUEST',
      `the multipart body could not be read: ${e.message ?? 'malformed'}`,
    );
  return err;
}
