import type { Context } from 'koa';

/**
 * The base of the absolute URLs Parley hands out (file links stored in messages, Location headers):
 * PARLEY_PUBLIC_URL, else the local address this connection reached us on. Never the Host or
 * X-Forwarded-Host header: a client could otherwise make Parley store and send links to any host.
 * loadConfig requires PARLEY_PUBLIC_URL wherever clients are not on this machine.
 */
export function publicBase(ctx: Pick<Context, 'req'>, configured?: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  const { localAddress = '127.0.0.1', localPort } = ctx.req.socket;
  const address = localAddress.replace(/^::ffff:/, '');
  return `http://${address.includes(':') ? `[${address}]` : address}:${localPort}`;
}
