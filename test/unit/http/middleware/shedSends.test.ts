import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { pino } from 'pino';
import { errorHandler } from '../../../../src/http/middleware/errorHandler.js';
import { shedSends } from '../../../../src/http/middleware/shedSends.js';
import { bodyParser } from '../../../../src/http/body.js';
import { OutboundBudget } from '../../../../src/xmpp/client/OutboundBudget.js';
import { SEND_ROUTE } from '../../../../src/chat/routes.js';
import { SendConcurrency } from '../../../../src/limits/SendConcurrency.js';
import { FakeSession, LIMITS, SENDS } from '../sendDoorFixtures.js';

/** errorHandler → shedSends → body parser → routes that count what reached them */
async function serve(
  sessions: Map<string, FakeSession>,
  opts: { concurrency?: SendConcurrency; gate?: () => Promise<void> } = {},
) {
  const reached: string[] = [];
  const router = new Router();
  const hit = async (ctx: Koa.Context) => {
    reached.push(`${ctx.method} ${ctx.path}`);
    await opts.gate?.();
    ctx.status = 201;
  };
  for (const route of SENDS) router.post(route, hit);
  router.post('/restapi/v1/chat/:streamid/messages/:to/:id/displayed', hit);
  router.get('/restapi/v1/chat/:streamid/messages/:to', hit);
  router.post('/restapi/v1/chat/:streamid/rooms/:room/:jid', hit);
  const app = new Koa();
  app.use(errorHandler(pino({ level: 'silent' })));
  app.use(
    shedSends({
      sessionOf: (id) => sessions.get(id),
      routes: SENDS,
      timedRoutes: [SEND_ROUTE],
      ...(opts.concurrency && { concurrency: opts.concurrency }),
    }),
  );
  app.use(bodyParser(1000));
  app.use(router.routes());
  const server: Server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = (method: string, path: string, body?: string) =>
    fetch(base + path, { method, body, headers: body ? { 'Content-Type': 'application/json' } : {} });
  return { reached, call, close: () => new Promise((r) => server.close(r)) };
}

describe('shedSends (backpressure at the door)', () => {
  let now: number;
  let refused: string[];
  let budget: OutboundBudget;
  let held: FakeSession;
  let app: Awaited<ReturnType<typeof serve>>;
  /** messages between this instance's users take `ms` now, and one is still on its way */
  const slowTransit = (ms: number) => {
    budget.transit.sent('m1');
    now += ms;
    budget.transit.arrived('m1');
    budget.transit.sent('m2');
  };

  beforeEach(async () => {
    now = 0;
    refused = [];
    budget = new OutboundBudget(
      LIMITS,
      (code) => refused.push(code),
      () => now,
    );
    held = new FakeSession(budget);
    app = await serve(new Map([['ps_held', held]]));
  });
  afterEach(() => app.close());

  it('lets every send through while the instance keeps up', async () => {
    const r = await app.call('POST', '/restapi/v1/chat/ps_held/messages/bob%40example.org', '{"body":"hi"}');
    assert.equal(r.status, 201);
    assert.deepEqual(app.reached, ['POST /restapi/v1/chat/ps_held/messages/bob%40example.org']);
  });

  it('refuses 1:1 and room sends with 503 XMPP_BACKLOG and Retry-After before the body is read', async () => {
    slowTransit(1500);
    for (const path of [
      '/restapi/v1/chat/ps_held/messages/bob%40example.org',
      '/RestAPI/V1/Chat/ps_held/Messages/bob/', // as the router matches: any case, a trailing slash
      '/restapi/v1/chat/ps_held/rooms/lobby',
      '/restapi/v1/chat/ps_held/rooms/lobby/occupants/ann/messages',
    ]) {
      // a body the parser would refuse with 400: the refusal comes first
      const r = await app.call('POST', path, '{not json');
      assert.equal(r.status, 503, path);
      assert.equal(r.headers.get('retry-after'), '1');
      const problem = (await r.json()) as { code: string; detail: string };
      assert.equal(problem.code, 'XMPP_BACKLOG');
      assert.match(problem.detail, /messages between users of this gateway take 1500 ms to arrive/);
    }
    assert.deepEqual(app.reached, []);
    assert.deepEqual(refused, ['XMPP_BACKLOG', 'XMPP_BACKLOG', 'XMPP_BACKLOG', 'XMPP_BACKLOG']);
  });

  it("refuses one session's sends with 429 SEND_QUEUE_FULL while it alone is over its bound", async () => {
    held.pending = LIMITS.maxPerSession;
    const r = await app.call('POST', '/restapi/v1/chat/ps_held/messages/bob', '{"body":"hi"}');
    assert.equal(r.status, 429);
    assert.equal(((await r.json()) as { code: string }).code, 'SEND_QUEUE_FULL');
    assert.deepEqual(app.reached, []);
  });

  it('leaves alone what sends no message, and sends on streams this instance does not hold', async () => {
    slowTransit(1500);
    const paths: [string, string][] = [
      ['POST', '/restapi/v1/chat/ps_held/messages/bob/abc/displayed'],
      ['GET', '/restapi/v1/chat/ps_held/messages/bob'],
      ['POST', '/restapi/v1/chat/ps_held/rooms/lobby/carl%40example.org'], // an invitation
      ['POST', '/restapi/v1/chat/ps_elsewhere/messages/bob'],
    ];
    for (const [method, path] of paths) {
      const r = await app.call(method, path, method === 'POST' ? '{"body":"hi"}' : undefined);
      assert.equal(r.status, 201, `${method} ${path}`);
    }
    assert.equal(app.reached.length, paths.length);
    assert.deepEqual(refused, []);
  });

  it('takes sends again once the backlog is gone', async () => {
    budget.adjust(LIMITS.maxPerInstance);
    assert.equal(
      (await app.call('POST', '/restapi/v1/chat/ps_held/messages/bob', '{"body":"a"}')).status,
      503,
    );
    budget.adjust(-1);
    assert.equal(
      (await app.call('POST', '/restapi/v1/chat/ps_held/messages/bob', '{"body":"b"}')).status,
      201,
    );
  });

  it('refuses to start with a send route that does not name its stream first', () => {
    assert.throws(
      () => shedSends({ sessionOf: () => undefined, routes: ['/restapi/v1/rooms/:room'] }),
      /does not start with/,
    );
  });

  it('refuses to start with a timed route that is not a send route', () => {
    assert.throws(
      () =>
        shedSends({
          sessionOf: () => undefined,
          routes: [SEND_ROUTE],
          timedRoutes: ['/restapi/v1/chat/:streamid/x'],
        }),
      /is not a send route/,
    );
  });
});

describe('shedSends with the adaptive bound on sends in progress', () => {
  let now: number;
  let open: (() => void)[];
  let concurrency: SendConcurrency;
  let app: Awaited<ReturnType<typeof serve>>;
  const send = (stream: string, path = 'messages/bob', body = '{"body":"hi"}') =>
    app.call('POST', `/restapi/v1/chat/${stream}/${path}`, body);

  beforeEach(async () => {
    now = 0;
    open = [];
    concurrency = new SendConcurrency({ targetMs: 50, intervalMs: 100, min: 2, max: 2, now: () => now });
    const budget = new OutboundBudget(
      LIMITS,
      () => undefined,
      () => now,
    );
    const sessions = new Map([['ps_held', new FakeSession(budget)]]);
    // every send waits until the test lets it through, so the places it holds are the test's to count
    const gate = () => new Promise<void>((r) => open.push(r));
    app = await serve(sessions, { concurrency, gate });
  });
  afterEach(async () => {
    for (const r of open) r();
    await app.close();
  });

  it('holds a place per 1:1 send until it is answered, and refuses past the bound with 503 GATEWAY_BUSY', async () => {
    const first = [send('ps_held'), send('ps_held')];
    while (open.length < 2) await new Promise((r) => setImmediate(r));
    assert.equal(concurrency.inFlight, 2);
    const r = await send('ps_held', 'messages/bob', '{not json'); // refused before the body is read
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal(((await r.json()) as { code: string }).code, 'GATEWAY_BUSY');
    assert.equal(app.reached.length, 2);
    open.shift()!();
    await first[0];
    assert.equal(concurrency.inFlight, 1);
    const next = send('ps_held');
    while (open.length < 2) await new Promise((r) => setImmediate(r));
    assert.equal(concurrency.inFlight, 2);
    for (const o of open.splice(0)) o();
    await Promise.all([first[1], next]);
    assert.equal(concurrency.inFlight, 0);
  });

  it('counts neither room posts nor sends for sessions held elsewhere', async () => {
    const held = [send('ps_held'), send('ps_held')];
    const others = [send('ps_held', 'rooms/lobby'), send('ps_elsewhere')];
    while (open.length < 4) await new Promise((r) => setImmediate(r));
    assert.equal(concurrency.inFlight, 2);
    for (const o of open.splice(0)) o();
    for (const r of await Promise.all([...held, ...others])) assert.equal(r.status, 201);
    assert.equal(concurrency.inFlight, 0);
  });
});
