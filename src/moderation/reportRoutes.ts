import type Router from '@koa/router';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { requireStream, type AccessDeps } from '../http/access.js';
import { readBody, validate } from '../http/body.js';
import { parseEventId } from '../http/params.js';
import { parseJid } from '../xmpp/jid.js';
import { requireAdmin, type AdminAccess } from './adminAccess.js';
import type { AuditLog } from './AuditLog.js';
import type { ReportService } from './ReportService.js';
import type { ReportStore } from './ReportStore.js';
import { userJid } from './params.js';

const NewReport = z
  .object({
    jid: z.string().min(1).max(3071),
    messageIds: z
      .array(z.string().regex(/^\d{1,18}$/, 'an event id from your history'))
      .max(50)
      .default([]),
    reason: z.enum(['spam', 'abuse', 'other']).default('spam'),
    text: z.string().min(1).max(2000).optional(),
    block: z.boolean().default(true),
  })
  .strict();

const ListParams = z
  .object({
    status: z.enum(['open', 'resolved', 'dismissed']).optional(),
    reporter: z.string().min(1).max(3071).optional(),
    reported: z.string().min(1).max(3071).optional(),
    before: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(300).default(100),
  })
  .strict();

const Resolve = z
  .object({
    status: z.enum(['resolved', 'dismissed']).default('resolved'),
    resolution: z.string().min(1).max(2000).optional(),
  })
  .strict();

const reportId = (raw: string): string => {
  if (!/^\d{1,18}$/.test(raw)) throw new BridgeError('NOT_FOUND', `no report ${raw.slice(0, 40)}`);
  return raw;
};

/**
 * Complaints: a user files one about another user's messages (POST …/chat/{streamid}/reports);
 * admins list, read and resolve them (…/admin/reports).
 */
export function reportRoutes(
  router: Router,
  access: AccessDeps,
  deps: { admin: AdminAccess; reports: ReportService; store: ReportStore; audit: AuditLog },
): void {
  const { domain } = deps.admin;

  router.post('/restapi/v1/chat/:streamid/reports', async (ctx) => {
    const session = await requireStream(ctx, access, ctx.params.streamid!);
    const body = readBody(ctx);
    const input = validate(NewReport, body.kind === 'json' ? body.value : undefined);
    ctx.status = 201;
    ctx.body = await deps.reports.report(session, {
      ...input,
      jid: parseJid(input.jid, domain, 'reported JID').bare,
    });
  });

  router.get('/restapi/v1/admin/reports', async (ctx) => {
    await requireAdmin(ctx, deps.admin);
    const q = validate(ListParams, ctx.query, 'query');
    ctx.body = await deps.store.list({
      status: q.status,
      limit: q.limit,
      before: parseEventId(q.before),
      reporter: q.reporter ? userJid(q.reporter, domain) : undefined,
      reported: q.reported ? userJid(q.reported, domain) : undefined,
    });
  });

  router.get('/restapi/v1/admin/reports/:reportId', async (ctx) => {
    await requireAdmin(ctx, deps.admin);
    const report = await deps.store.get(reportId(ctx.params.reportId!));
    if (!report) throw new BridgeError('NOT_FOUND', `no report ${ctx.params.reportId}`);
    ctx.body = report;
  });

  router.post('/restapi/v1/admin/reports/:reportId/resolve', async (ctx) => {
    const actor = await requireAdmin(ctx, deps.admin);
    const body = readBody(ctx);
    const input = validate(Resolve, body.kind === 'json' ? body.value : {});
    const report = await deps.store.resolve(
      reportId(ctx.params.reportId!),
      input.status,
      actor,
      input.resolution,
    );
    if (!report) throw new BridgeError('NOT_FOUND', `no report ${ctx.params.reportId}`);
    await deps.audit.record(
      actor,
      `report.${input.status === 'resolved' ? 'resolve' : 'dismiss'}`,
      report.id,
      { resolution: input.resolution ?? null },
    );
    ctx.body = report;
  });
}
