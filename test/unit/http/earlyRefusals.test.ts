import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { pino } from 'pino';
import { errorHandler } from '../../../src/http/middleware/errorHandler.js';
import { requestId } from '../../../src/http/middleware/requestId.js';
import { SendDoor, shedSends } from '../../../src/http/middleware/shedSends.js';
import { withEarlyRefusals } from '../../../src/http/earlyRefusals.js';
import { corsFor } from '../../../src/http/cors.js';
import { httpMetrics } from '../../../src/metrics/httpMetrics.js';
import { OutboundBudget } from '../../../src/xmpp/client/OutboundBudget.js';
import { SendConcurrency } from '../../../src/limits/SendConcurrency.js';
import { SEND_ROUTE } from '../../../src/chat/routes.js';
import { ROOM_SEND_ROUTES } from '../../../src/rooms/roomRoutes.js';
import { FakeSession, LIMITS } from './sendDoorFixtures.js';

type Observed = { method: string; route: string; status: number };

/** The app's order (request id, CORS, metrics, errors, the door) behind the early refusals, on a real server. */
async function serve(door: SendDoor, opts: { cors?: string[]; stopping?: () => boolean } = {}) {
  const observed: Observed[] = [];
  const metrics = {
    request: (method: string, route: string, status: number) => observed.push({ method, route, status }),
  } as unknown as Parameters<typeof httpMetrics>[0];
  let koaCalls = 0;
  const reached: string[] = [];
  const router = new Router();
  for (const route of [SEND_ROUTE, ...ROOM_SEND_ROUTES])
    router.post(route, (ctx) => {
      reached.push(ctx.path);
      ctx.status = 201;
    });
  const app = new Koa();
  app.use(async (_ctx, next) => {
    koaCalls++;
    await next();
  });
  app.use(requestId);
  const cors = corsFor(opts.cors ?? []);
  if (cors) app.use(cors);
  app.use(httpMetrics(metrics));
  app.use(errorHandler(pino({ level: 'silent' })));
  app.use(shedSends(door));
  app.use(router.routes());
  const listener = withEarlyRefusals(app.callback(), {
    door,
    metrics,
    log: pino({ level: 'silent' }),
    cors: cors !== undefined,
    ...(opts.stopping && { isStopping: opts.stopping }),
  });
  const server: Server = createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, headers: Record<string, string> = {}) =>
    fetch(base + path, {
      method: 'POST',
      body: '{"body":"hi"}',
      headers: { 'Content-Type': 'application/json', ...headers },
    });
  return {
    post,
    observed,
    reached,
    koaCalls: () => koaCalls,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('early refusals (the server listener in front of Koa)', () => {
  let budget: OutboundBudget;
  let held: FakeSession;
  let refused: string[];
  let app: Awaited<ReturnType<typeof serve>>;
  const door = (concurrency?: SendConcurrency) =>
    new SendDoor({
      sessionOf: (id) => (id === 'ps_held' ? held : undefined),
      routes: [SEND_ROUTE, ...ROOM_SEND_ROUTES],
      timedRoutes: [SEND_ROUTE],
      ...(concurrency && { concurrency }),
    });

  beforeEach(() => {
    refused = [];
    budget = new OutboundBudget(
      LIMITS,
      (code) => refused.push(code),
      () => 0,
    );
    held = new FakeSession(budget);
  });
  afterEach(() => app?.close());

  it("answers a refused send without Koa, as Koa's error handler would", async () => {
    app = await serve(door(), { cors: ['https://site.example'] });
    held.pending = LIMITS.maxPerSession;
    const early = await app.post('/restapi/v1/chat/ps_held/messages/bob%40example.org?x=1', {
      'X-Request-Id': 'req-1',
    });
    assert.equal(app.koaCalls(), 0);
    // the same refusal from a browser goes through Koa (its CORS headers are @koa/cors's)
    const viaKoa = await app.post('/restapi/v1/chat/ps_held/messages/bob%40example.org', {
      'X-Request-Id': 'req-2',
      Origin: 'https://site.example',
    });
    assert.equal(app.koaCalls(), 1);
    assert.equal(viaKoa.headers.get('access-control-allow-origin'), 'https://site.example');
    for (const [r, id] of [
      [early, 'req-1'],
      [viaKoa, 'req-2'],
    ] as const) {
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(r.headers.get('x-request-id'), id);
      assert.equal(r.headers.get('vary'), 'Origin');
      const problem = (await r.json()) as Record<string, unknown>;
      assert.equal(problem.code, 'SEND_QUEUE_FULL');
      assert.equal(problem.status, 429);
      assert.equal(problem.requestId, id);
      assert.match(problem.detail as string, /this session/);
    }
    assert.deepEqual(app.reached, []);
    assert.deepEqual(refused, ['SEND_QUEUE_FULL', 'SEND_QUEUE_FULL']);
    // both observed with the route they were for
    assert.deepEqual(app.observed, [
      { method: 'POST', route: SEND_ROUTE, status: 429 },
      { method: 'POST', route: SEND_ROUTE, status: 429 },
    ]);
  });

  it('makes a request id when the client sent none or a bad one', async () => {
    app = await serve(door());
    held.pending = LIMITS.maxPerSession;
    const r = await app.post('/restapi/v1/chat/ps_held/rooms/lobby', { 'X-Request-Id': 'bad id!' });
    assert.equal(r.status, 429);
    const id = r.headers.get('x-request-id')!;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(((await r.json()) as { requestId: string }).requestId, id);
    assert.equal(r.headers.get('vary'), null); // no CORS configured
  });

  it('refuses past the adaptive bound before Koa, and lets a send under it through to its route', async () => {
    let now = 0;
    const concurrency = new SendConcurrency({
      targetMs: 50,
      intervalMs: 100,
      min: 1,
      max: 8,
      now: () => now,
    });
    app = await serve(door(concurrency));
    // another session's send stuck for four intervals: the bound falls to its floor, one
    const hold = concurrency.acquire({});
    now += 400;
    // under it, this session may still have two out; a third is refused
    const a = concurrency.acquire(held);
    const b = concurrency.acquire(held);
    assert.equal(concurrency.limit, 1);
    const r = await app.post('/restapi/v1/chat/ps_held/messages/bob');
    assert.equal(r.status, 429);
    assert.equal(app.koaCalls(), 0);
    for (const release of [hold, a, b]) release();
    now += 1;
    assert.equal((await app.post('/restapi/v1/chat/ps_held/messages/bob')).status, 201);
    assert.equal(app.koaCalls(), 1);
    assert.deepEqual(app.reached, ['/restapi/v1/chat/ps_held/messages/bob']);
    assert.equal(concurrency.inFlight, 0); // the place taken in Koa was given back
  });

  it('passes on what it does not refuse: other sessions, other requests, a gateway shutting down', async () => {
    let stopping = false;
    app = await serve(door(), { stopping: () => stopping });
    assert.equal((await app.post('/restapi/v1/chat/ps_held/messages/bob')).status, 201);
    assert.equal((await app.post('/restapi/v1/chat/ps_elsewhere/messages/bob')).status, 201);
    held.pending = LIMITS.maxPerSession;
    stopping = true;
    // Koa's door refuses it (this test's app has no shutdown middleware): it went the whole way
    assert.equal((await app.post('/restapi/v1/chat/ps_held/messages/bob')).status, 429);
    assert.equal(app.koaCalls(), 3);
  });
});
