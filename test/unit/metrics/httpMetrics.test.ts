import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { httpMetrics, UNMATCHED_ROUTE } from '../../../src/metrics/httpMetrics.js';

describe('httpMetrics', () => {
  let server: Server;
  let base: string;
  const seen: [string, string, number][] = [];
  before(async () => {
    const app = new Koa();
    const router = new Router();
    router.get('/chat/users', (ctx) => {
      ctx.body = 'list';
    });
    router.get('/chat/:streamid', (ctx) => {
      ctx.body = ctx.params.streamid;
    });
    router.post('/chat/:streamid/fail', () => {
      throw Object.assign(new Error('nope'), { status: 409, expose: true });
    });
    router.get('/raw/:id', (ctx) => {
      ctx.respond = false;
      ctx.res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      ctx.res.end();
    });
    app.use(httpMetrics({ request: (method, route, status) => seen.push([method, route, status]) }));
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = (err as { status: number }).status;
        ctx.body = 'error';
      }
    });
    app.use(router.routes());
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
  });

  it('labels with the template of the layer that answered, never the URL', async () => {
    await fetch(`${base}/chat/ps_secretish123`);
    await fetch(`${base}/chat/users`);
    assert.deepEqual(seen, [
      ['GET', '/chat/:streamid', 200],
      ['GET', '/chat/users', 200],
    ]);
  });

  it('observes failures with the status the client got, and unmatched paths under one label', async () => {
    await fetch(`${base}/chat/x/fail`, { method: 'POST' });
    await fetch(`${base}/nowhere/${Math.random()}`);
    assert.deepEqual(seen, [
      ['POST', '/chat/:streamid/fail', 409],
      ['GET', UNMATCHED_ROUTE, 404],
    ]);
  });

  it('takes the status written on the socket when the handler answered itself (SSE)', async () => {
    await (await fetch(`${base}/raw/1`)).text();
    assert.deepEqual(seen, [['GET', '/raw/:id', 200]]);
  });
});
