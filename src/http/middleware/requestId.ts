import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

/** Echoes a sane client X-Request-Id or makes one; errors and logs quote it. */
export async function requestId(ctx: Context, next: Next): Promise<void> {
  const given = ctx.get('X-Request-Id');
  ctx.state.requestId = /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
  ctx.set('X-Request-Id', ctx.state.requestId as string);
  await next();
}
