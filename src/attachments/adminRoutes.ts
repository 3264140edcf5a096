import type Router from '@koa/router';
import { z } from 'zod';
import { requireMaster } from '../http/access.js';
import { validate } from '../http/body.js';
import { parseEventId, parseUsername } from '../http/params.js';
import type { Queryable } from '../store/db.js';
import type { Housekeeping } from './Housekeeping.js';
import type { Compressor } from './Compressor.js';

const CleanupQuery = z.object({ days: z.coerce.number().min(0).max(36_500) }).strict();
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
  deps: { db: Queryable; housekeeping: Housekeeping; compressor: Compressor },
): void {
  router.post('/restapi/v1/admin/attachments/cleanup', async (ctx) => {
    requireMaster(ctx);
    const q = validate(CleanupQuery, ctx.query, 'query');
    ctx.body = { days: q.days, ...(await deps.housekeeping.removeOlderThan(q.days)) };
  });

  router.post('/restapi/v1/admin/attachments/:id/compress', async (ctx) => {
    requireMaster(ctx);
    ctx.body = await deps.compressor.compress(ctx.params.id!);
  });

  router.get('/restapi/v1/admin/attachments', async (ctx) => {
    requireMaster(ctx);
    const q = validate(ListQuery, ctx.query, 'query');
    const owner = q.user ? parseUsername(q.user) : undefined;
    const before = parseEventId(q.before);
    const args: unknown[] = [q.limit + 1];
    const where = [`jsonb_typeof(e.payload->'attachments') = 'array'`];
    if (owner) {
      args.push(owner);
      where.push(`m.owner = $${args.length}`);
    }
    if (before) {
      args.push(before);
      where.push(`m.event_id < $${args.length}`);
    }
    const { rows } = await deps.db.query<{
      event_id: string;
      owner: string;
      kind: string;
      direction: string;
      from_jid: string;
      to_jid: string;
      peer: string;
      body: string | null;
      sent_at: Date;
      attachments: unknown[];
    }>(
      `SELECT m.event_id, m.owner, m.kind, m.direction, m.from_jid, m.to_jid, m.peer, m.body, m.sent_at, e.payload->'attachments' AS attachments
         FROM messages m JOIN events e ON e.id = m.event_id WHERE ${where.join(' AND ')} ORDER BY m.event_id DESC LIMIT $1`,
      args,
    );
    const page = rows.slice(0, q.limit);
    ctx.body = {
      messages: page.map((r) => ({
        id: String(r.event_id),
        owner: r.owner,
        type: r.kind,
        direction: r.direction,
        from: r.from_jid,
        to: r.to_jid,
        ...(r.kind === 'groupchat' ? { room: r.peer } : {}),
        body: r.body,
        timestamp: r.sent_at.toISOString(),
        attachments: r.attachments,
      })),
      page: {
        limit: q.limit,
        hasMore: rows.length > q.limit,
        before: page.at(-1) ? String(page.at(-1)!.event_id) : null,
      },
    };
  });
}
