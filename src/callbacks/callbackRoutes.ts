import type Router from '@koa/router';
import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import { requireMaster } from '../http/access.js';
import { readBody, validate } from '../http/body.js';
import type { CallbackOutbox } from './CallbackOutbox.js';

const ListQuery = z
  .object({
    orderingKey: z.string().min(1).max(300).optional(),
    after: z
      .string()
      .regex(/^\d{1,18}$/)
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
const ReplayAll = z.object({ orderingKey: z.string().min(1).max(300).optional() }).strict();

/**
 * Admin API over dead-lettered callbacks (master secret only): list them, and replay one or all of
 * them (they go back to pending with a fresh retry horizon and keep their idempotency key).
 */
export function callbackRoutes(router: Router, deps: { outbox: CallbackOutbox; nudge: () => void }): void {
  router.get('/restapi/v1/callbacks/dead-letters', async (ctx) => {
    requireMaster(ctx);
    const q = validate(ListQuery, ctx.query, 'query');
    const deadLetters = await deps.outbox.listDead({
      orderingKey: q.orderingKey,
      afterId: q.after,
      limit: q.limit,
    });
    ctx.body = {
      deadLetters,
      next: deadLetters.length === q.limit ? deadLetters[deadLetters.length - 1]!.id : null,
    };
  });

  router.post('/restapi/v1/callbacks/dead-letters/replay', async (ctx) => {
    requireMaster(ctx);
    const body = readBody(ctx);
    if (body.kind === 'text' && body.text.trim())
      throw new BridgeError('UNSUPPORTED_MEDIA_TYPE', 'send JSON {"orderingKey": "..."} or no body');
    const input = body.kind === 'json' ? validate(ReplayAll, body.value) : {};
    ctx.body = { replayed: await deps.outbox.replay({ orderingKey: input.orderingKey }) };
    deps.nudge();
  });

  router.post('/restapi/v1/callbacks/dead-letters/:id/replay', async (ctx) => {
    requireMaster(ctx);
    const id = ctx.params.id!;
    if (!/^\d{1,18}$/.test(id))
      throw new BridgeError('BAD_REQUEST', `"${id.slice(0, 40)}" is not a callback id`);
    const replayed = await deps.outbox.replay({ id });
    if (!replayed) throw new BridgeError('NOT_FOUND', `no dead-lettered callback ${id}`);
    ctx.body = { replayed };
    deps.nudge();
  });
}
