import type Router from '@koa/router';
import { BridgeError } from '../errors/BridgeError.js';
import { validate } from '../http/body.js';
import { requireAdmin, type AdminAccess } from './adminAccess.js';
import type { AdminMessageLog } from '../messages/MessageLog.js';
import type { AdminQuery } from '../messages/types.js';
import type { ModerationActions } from './ModerationActions.js';
import { toCsv } from './csv.js';
import { ExportParams, MessageParams, toAdminQuery, userJid } from './params.js';

const CSV_COLUMNS = [
  'id',
  'type',
  'timestamp',
  'from',
  'to',
  'room',
  'nick',
  'body',
  'hasAttachments',
  'stanzaId',
  'archiveId',
  'data',
] as const;

/**
 * Admin history views over every stored message, each once (see messages/adminReads.ts for how the copies
 * kept per owner are folded): search with filters, the dialogue of two users, one user's messages,
 * export as JSON or CSV, and deleting a message.
 */
export function historyRoutes(
  router: Router,
  deps: {
    admin: AdminAccess;
    messages: Pick<AdminMessageLog, 'adminPage'>;
    mucService: string;
    actions: ModerationActions;
  },
): void {
  const { domain } = deps.admin;
  const query = (raw: unknown, fixed: Partial<AdminQuery> = {}): AdminQuery => {
    const q = toAdminQuery(validate(MessageParams, raw, 'query'), domain, deps.mucService);
    if (q.peer && !q.user && !fixed.user)
      throw new BridgeError('VALIDATION_FAILED', 'peer needs user', {
        errors: [{ path: 'query.peer', message: 'only with user' }],
      });
    return { ...q, ...fixed };
  };

  router.get('/restapi/v1/admin/messages', async (ctx) => {
    await requireAdmin(ctx, deps.admin);
    ctx.body = await deps.messages.adminPage(query(ctx.query));
  });

  // Before /admin/messages/:messageId would match it (that one is DELETE only, but keep the order obvious).
  router.get('/restapi/v1/admin/messages/export', async (ctx) => {
    const actor = await requireAdmin(ctx, deps.admin);
    const p = validate(ExportParams, ctx.query, 'query');
    const { format, limit, ...filters } = p;
    const q = { ...toAdminQuery({ ...filters, limit: 1 }, domain, deps.mucService), limit };
    const { messages, page } = await deps.messages.adminPage(q);
    await deps.actions.audit.record(actor, 'messages.export', q.user ?? q.room ?? '*', {
      format,
      count: messages.length,
      truncated: page.hasMore,
      filters,
    });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    ctx.set('Content-Disposition', `attachment; filename="parley-messages-${stamp}.${format}"`);
    if (format === 'csv') {
      ctx.type = 'text/csv; charset=utf-8';
      ctx.body = toCsv(CSV_COLUMNS, messages as unknown as Record<string, unknown>[]);
    } else {
      ctx.body = { messages, truncated: page.hasMore };
    }
  });

  router.get('/restapi/v1/admin/dialogues/:user1/:user2', async (ctx) => {
    await requireAdmin(ctx, deps.admin);
    const [a, b] = [userJid(ctx.params.user1!, domain), userJid(ctx.params.user2!, domain)];
    ctx.body = await deps.messages.adminPage(query(ctx.query, { user: a, peer: b, room: undefined }));
  });

  router.get('/restapi/v1/admin/users/:username/messages', async (ctx) => {
    await requireAdmin(ctx, deps.admin);
    ctx.body = await deps.messages.adminPage(
      query(ctx.query, { user: userJid(ctx.params.username!, domain) }),
    );
  });

  router.delete('/restapi/v1/admin/messages/:messageId', async (ctx) => {
    const actor = await requireAdmin(ctx, deps.admin);
    const id = ctx.params.messageId!;
    if (!/^\d{1,18}$/.test(id)) throw new BridgeError('NOT_FOUND', `no message ${id.slice(0, 40)}`);
    const { deleted, audit } = await deps.actions.deleteMessage(actor, id);
    ctx.body = { deleted, auditId: audit.id };
  });
}
