import type Router from '@koa/router';

export interface HealthDeps {
  dbPing(): Promise<boolean>;
  xmppPing(): Promise<boolean>;
}

/** /healthz: the process answers. /readyz: the database and the XMPP server answer too (else 503). */
export function healthRoutes(router: Router, deps: HealthDeps): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const [database, xmpp] = await Promise.all([deps.dbPing(), deps.xmppPing()]);
    const ready = database && xmpp;
    ctx.status = ready ? 200 : 503;
    if (!ready) ctx.set('Retry-After', '5');
    ctx.body = {
      status: ready ? 'ready' : 'unavailable',
      checks: { database: database ? 'ok' : 'down', xmpp: xmpp ? 'ok' : 'down' },
    };
  });
}
