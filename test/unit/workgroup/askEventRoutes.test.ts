import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { authenticate } from '../../../src/http/middleware/auth.js';
import { errorHandler } from '../../../src/http/middleware/errorHandler.js';
import { requestId } from '../../../src/http/middleware/requestId.js';
import { StreamTickets, TICKET_SECONDS } from '../../../src/sessions/StreamTickets.js';
import { EventHub } from '../../../src/sse/EventHub.js';
import type { AskService } from '../../../src/workgroup/AskService.js';
import type { RequestRow } from '../../../src/workgroup/RequestStore.js';
import { askEventRoutes } from '../../../src/workgroup/routes/askEventRoutes.js';
import { silentLog } from './fakes.js';

const SECRET = 'the master secret of this test';
const REQUEST = {
  id: 'rq1',
  userId: 'jane',
  status: 'queued',
  joinedAt: new Date(0),
  visitorJoined: false,
} as RequestRow;

/** The visitor stream's routes over one request, with the tickets' clock in the test's hands. */
function appUnderTest(now: () => number) {
  const ask = {
    latestOf: async (userId: string) => (userId === REQUEST.userId ? REQUEST : undefined),
    byToken: async (token: string) => (token === 'visitor-token' ? REQUEST : undefined),
    view: async (r: RequestRow) => ({ id: r.id, userID: r.userId, status: r.status }),
  } as unknown as AskService;
  const store = { insert: async () => assert.fail(), after: async () => [], latestId: async () => '0' };
  const router = new Router();
  askEventRoutes(router, {
    ask,
    hub: new EventHub({ store, log: silentLog() }),
    log: silentLog(),
    heartbeatMs: 60_000,
    tickets: new StreamTickets(SECRET, now),
  });
  const app = new Koa();
  app.silent = true;
  app.use(requestId);
  app.use(errorHandler(silentLog()));
  app.use(authenticate(SECRET));
  app.use(router.routes());
  return app;
}

describe('askEventRoutes: the visitor stream by ticket', () => {
  let server: Server;
  let base: string;
  let now = Date.UTC(2026, 0, 1);
  before(async () => {
    server = createServer(appUnderTest(() => now).callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/restapi/v1/ask/jane/events`;
  });
  after(() => {
    server.closeAllConnections(); // the streams that were opened
    return new Promise<void>((r) => server.close(() => r()));
  });

  const ticket = async (): Promise<string> => {
    const r = await fetch(`${base}/ticket`, {
      method: 'POST',
      headers: { Authorization: 'Bearer visitor-token' },
    });
    assert.equal(r.status, 201);
    return ((await r.json()) as { ticket: string }).ticket;
  };
  /** The status a GET with this ticket answers, without waiting for the stream to end. */
  const open = async (t: string): Promise<{ status: number; code?: string }> => {
    const stop = new AbortController();
    const r = await fetch(`${base}?ticket=${t}`, { signal: stop.signal });
    const code = r.ok ? undefined : ((await r.json()) as { code: string }).code;
    stop.abort();
    return { status: r.status, code };
  };

  it('opens the stream within TICKET_SECONDS, and refuses it from then on', async () => {
    const early = await ticket();
    const late = await ticket();
    now += (TICKET_SECONDS - 1) * 1000;
    assert.equal((await open(early)).status, 200);
    now += 1000;
    assert.deepEqual(await open(late), { status: 401, code: 'BAD_CREDENTIALS' });
  });

  it('refuses a ticket for another request or another kind of stream', async () => {
    const other = new StreamTickets(SECRET, () => now);
    assert.deepEqual(await open(other.issue('ask:rq2').ticket), { status: 401, code: 'BAD_CREDENTIALS' });
    assert.deepEqual(await open(other.issue('rq1').ticket), { status: 401, code: 'BAD_CREDENTIALS' });
    assert.equal((await open(other.issue('ask:rq1').ticket)).status, 200, 'the same key, this request');
  });
});
