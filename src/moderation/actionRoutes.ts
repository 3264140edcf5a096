import type Router from '@koa/router';
import { z } from 'zod';
import { readBody, validate } from '../http/body.js';
import { parseEventId, parseUsername } from '../http/params.js';
import { parseJid } from '../xmpp/jid.js';
import { requireAdmin, type AdminAccess } from './adminAccess.js';
import type { AccountBlocks, BlockKind } from './AccountBlocks.js';
import type { ModerationActions } from './ModerationActions.js';

const Reason = z.object({ reason: z.string().min(1).max(2000).optional() }).strict();
const BlockJid = z.object({ jid: z.string().min(1).max(3071) }).strict();
const AuditParams = z
  .object({
    actor: z.string().min(1).max(3071).optional(),
    action: z.string().min(1).max(100).optional(),
    target: z.string().min(1).max(3071).optional(),
    before: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(300).default(100),
  })
  .strict();

/**
 * Admin actions on users (kick, disable, mute, block a JID for them) and the audit log of all actions.
 * `disabled` and `muted` are Parley-side ACL entries (enforced by AccountPolicy: the SendPolicy and LoginPolicy ports); PUT sets, DELETE clears.
 */
export function actionRoutes(
  router: Router,
  deps: { admin: AdminAccess; actions: ModerationActions; blocks: AccountBlocks },
): void {
  const user = (raw: string): string => parseUsername(raw);

  router.get('/restapi/v1/admin/users/:username/restrictions', async (ctx) => {
    await requireAdmin(ctx, deps.admin);
    ctx.body = { restrictions: await deps.blocks.of(user(ctx.params.username!)) };
  });

  router.delete('/restapi/v1/admin/users/:username/sessions', async (ctx) => {
    const actor = await requireAdmin(ctx, deps.admin);
    await deps.actions.kick(actor, user(ctx.params.username!));
    ctx.status = 204;
  });

  for (const kind of ['disabled', 'muted'] as const satisfies readonly BlockKind[]) {
    router.put(`/restapi/v1/admin/users/:username/${kind}`, async (ctx) => {
      const actor = await requireAdmin(ctx, deps.admin);
      const body = readBody(ctx);
      const { reason } = validate(Reason, body.kind === 'json' ? body.value : {});
      const entry = await deps.actions.block(actor, user(ctx.params.username!), kind, reason);
      ctx.body = { username: entry.target, restriction: kind, auditId: entry.id };
    });
    router.delete(`/restapi/v1/admin/users/:username/${kind}`, async (ctx) => {
      const actor = await requireAdmin(ctx, deps.admin);
      await deps.actions.unblock(actor, user(ctx.params.username!), kind);
      ctx.status = 204;
    });
  }

  router.post('/restapi/v1/admin/users/:username/blocklist', async (ctx) => {
    const actor = await requireAdmin(ctx, deps.admin);
    const body = readBody(ctx);
    const { jid } = validate(BlockJid, body.kind === 'json' ? body.value : undefined);
    const entry = await deps.actions.blockFor(
      actor,
      user(ctx.params.username!),
      parseJid(jid, deps.admin.domain, 'JID to block').bare,
    );
    ctx.body = { username: entry.target, blocked: (entry.details as { jid: string }).jid, auditId: entry.id };
  });

  router.get('/restapi/v1/admin/audit', async (ctx) => {
    await requireAdmin(ctx, deps.admin);
    const q = validate(AuditParams, ctx.query, 'query');
    ctx.body = await deps.actions.audit.list({ ...q, before: parseEventId(q.before) });
  });
}
