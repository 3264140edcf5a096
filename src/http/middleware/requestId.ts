import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

/** A sane client X-Request-Id as given, or a fresh one. */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** Echoes a sane client X-Request-Id or makes one; errors and logs quote it. */
export async function requestId(ctx: Context, next: Next): Promise<void> {
  ctx.state.requestId = requestIdFrom(ctx.get('X-Request-Id'));
  ctx.set('X-Request-Id', ctx.state.requestId as string);
  await next();
}
