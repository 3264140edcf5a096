import type Router from '@koa/router';
import { z } from 'zod';
import { requireMaster } from '../http/access.js';
import { validate } from '../http/body.js';
import { parseEventId, parseUsername } from '../http/params.js';
import type { AdminMessageLog } from '../messages/MessageLog.js';
import type { Housekeeping } from './Housekeeping.js';
import type { Compressor } from './Compressor.js';
import type { AttachmentStore } from './AttachmentStore.js';

const CleanupQuery = z.object({ days: z.coerce.number().min(0).max(36_500) }).strict();
const CompressibleQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();
const ListQuery = z
  .object({
    user: z.string().min(1).max(64).optional(),
    before: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(300).default(100),
  })
  .strict();

/**
 * Operator calls (master secret): clean-up of old files, compression of video/audio (ffmpeg), and the
 * attachments-only message view
 * (Star.Comet's admin `hasAttachments` list, capped at 300 like its other lists).
 */
export function attachmentAdminRoutes(
  router: Router,
  deps: {
    messages: Pick<AdminMessageLog, 'attachmentMessages'>;
    housekeeping: Housekeeping;
    compressor: Compressor;
    store: Pick<AttachmentStore, 'compressible'>;
  },
): void {
  router.post('/restapi/v1/admin/attachments/cleanup', async (ctx) => {
    requireMaster(ctx);
    const q = validate(CleanupQuery, ctx.query, 'query');
    ctx.body = { days: q.days, ...(await deps.housekeeping.removeOlderThan(q.days)) };
  });

  router.get('/restapi/v1/admin/attachments/compressible', async (ctx) => {
    requireMaster(ctx);
    const q = validate(CompressibleQuery, ctx.query, 'query');
    ctx.body = { attachments: await deps.store.compressible(q.limit) };
  });

  router.post('/restapi/v1/admin/attachments/:id/compress', async (ctx) => {
    requireMaster(ctx);
    ctx.body = await deps.compressor.compress(ctx.params.id!);
  });

  router.get('/restapi/v1/admin/attachments', async (ctx) => {
    requireMaster(ctx);
    const q = validate(ListQuery, ctx.query, 'query');
    ctx.body = await deps.messages.attachmentMessages({
      owner: q.user ? parseUsername(q.user) : undefined,
      before: parseEventId(q.before),
      limit: q.limit,
    });
  });
}
