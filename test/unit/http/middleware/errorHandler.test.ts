import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import Router from '@koa/router';
import { pino } from 'pino';
import { BridgeError } from '../../../../src/errors/BridgeError.js';
import { ERROR_CODES, type ErrorCode } from '../../../../src/errors/codes.js';
import { errorHandler, refusalSummary } from '../../../../src/http/middleware/errorHandler.js';
import type { Problem } from '../../../../src/errors/problem.js';
import { requestId } from '../../../../src/http/middleware/requestId.js';

const GENERIC = 'An unexpected error occurred; quote the requestId when reporting it.';
const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** The error handler in front of a router whose routes fail in chosen ways; log lines are kept. */
function appUnderTest() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const router = new Router();
  router.get('/bridge/:code', (ctx) => {
    const code = ctx.params.code as ErrorCode;
    throw new BridgeError(code, `detail of ${code}`, {
      retryAfter: code === 'DATABASE_UNAVAILABLE' ? 7 : undefined,
    });
  });
  router.get('/crash', () => {
    throw new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
  });
  router.get('/throw/:status', (ctx) => {
    ctx.throw(Number(ctx.params.status), 'from a lower layer');
  });
  router.get('/bad-json', () => {
    throw Object.assign(new Error('Unexpected token } in JSON'), {
      status: 400,
      type: 'entity.parse.failed',
    });
  });
  router.get('/fields', () => {
    throw new BridgeError('VALIDATION_FAILED', 'body.nick: too long', {
      errors: [{ path: 'body.nick', message: 'too long' }],
    });
  });
  router.get('/refused', () => {
    throw new BridgeError('XMPP_REFUSED', 'the room said no', { xmppCondition: 'not-acceptable' });
  });
  router.get('/stream', (ctx) => {
    ctx.respond = false;
    ctx.res.writeHead(200, { 'content-type': 'text/event-stream' });
    ctx.res.end(': started\n\n');
    throw new Error('the stream broke after it started');
  });
  router.get('/thing', (ctx) => {
    ctx.body = { ok: true };
  });
  const app = new Koa();
  app.silent = true;
  app.use(requestId);
  app.use(errorHandler(log));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return { app, lines };
}

describe('errorHandler', () => {
  let server: Server;
  let base: string;
  let lines: Record<string, unknown>[];
  before(async () => {
    const built = appUnderTest();
    lines = built.lines;
    server = createServer(built.app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => lines.splice(0));

  const get = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(base + path, { ...init, headers: { 'X-Request-Id': 'req-1', ...init.headers } });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json');
    return { res, text, body: json ? (JSON.parse(text) as Problem) : undefined };
  };

  it('answers every code of the error table with its status and a problem+json body', async () => {
    for (const code of CODES) {
      const spec = ERROR_CODES[code];
      const { res, body } = await get(`/bridge/${code}`);
      assert.equal(res.status, spec.status, code);
      assert.equal(res.headers.get('content-type'), 'application/problem+json', code);
      const shown = spec.status < 500 || [501, 503, 504].includes(spec.status);
      assert.deepEqual(
        body,
        {
          type: `https://parley.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
          title: spec.title,
          status: spec.status,
          detail: shown ? `detail of ${code}` : GENERIC,
          code,
          requestId: 'req-1',
        },
        code,
      );
      assert.equal(res.headers.has('www-authenticate'), spec.status === 401, code);
    }
  });

  it('sends Retry-After when the error carries one', async () => {
    const { res } = await get('/bridge/DATABASE_UNAVAILABLE');
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '7');
  });

  it('turns an unknown error into 500 INTERNAL without leaking its message, and logs it with the requestId', async () => {
    const { res, text, body } = await get('/crash');
    assert.equal(res.status, 500);
    assert.equal(body?.code, 'INTERNAL');
    assert.equal(body?.detail, GENERIC);
    assert.doesNotMatch(text, /hunter2|ECONNREFUSED|10\.0\.0\.5|at .*\.ts/);
    const logged = lines.find((l) => l.msg === 'request failed');
    assert.ok(logged, 'the failure is logged');
    assert.equal(logged.requestId, 'req-1');
    assert.match(String((logged.err as { message?: string }).message), /ECONNREFUSED/);
  });

  it('logs backpressure refusals in summary: the first at once, then one line per 10 s with the count', () => {
    const seen: { refused: number; msg: string }[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({ write: (c: Buffer, _e, done) => (seen.push(JSON.parse(c.toString())), done()) }),
    );
    let now = 0;
    const refused = refusalSummary(log, () => now);
    // 200 refusals a second for 15 s
    for (let i = 0; i < 3000; i++) {
      refused('XMPP_BACKLOG', 'behind');
      now += 5;
    }
    assert.deepEqual(
      seen.map((l) => l.refused),
      [1, 2000],
    );
    assert.match(seen[1]!.msg, /^behind \(sends refused by backpressure since the last such line: 2000\)$/);
  });

  it('does not log client errors as failures', async () => {
    await get('/bridge/NOT_FOUND');
    assert.equal(lines.length, 0);
  });

  it('maps errors from lower layers (ctx.throw, the body parser) onto the table', async () => {
    const cases: [string, number, ErrorCode][] = [
      ['/throw/413', 413, 'BODY_TOO_LARGE'],
      ['/throw/415', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['/throw/400', 400, 'BAD_REQUEST'],
      ['/throw/401', 401, 'UNAUTHENTICATED'],
      ['/throw/403', 403, 'FORBIDDEN'],
      ['/throw/404', 404, 'NOT_FOUND'],
      ['/throw/418', 500, 'INTERNAL'], // a status the table does not know is not passed through
      ['/bad-json', 400, 'INVALID_JSON'],
    ];
    for (const [path, status, code] of cases) {
      const { res, body } = await get(path);
      assert.equal(res.status, status, path);
      assert.equal(body?.code, code, path);
    }
  });

  it('carries field problems and the XMPP condition', async () => {
    const fields = await get('/fields');
    assert.deepEqual(fields.body?.errors, [{ path: 'body.nick', message: 'too long' }]);
    const refused = await get('/refused');
    assert.equal(refused.res.status, 422);
    assert.equal(refused.body?.xmppCondition, 'not-acceptable');
  });

  it('gives an unmatched path a 404 problem', async () => {
    const { res, body } = await get('/nowhere');
    assert.equal(res.status, 404);
    assert.equal(body?.code, 'NOT_FOUND');
    assert.equal(body?.detail, 'no route for GET /nowhere');
  });

  it('gives a method the route lacks a 405 problem that names the allowed ones, and keeps Allow', async () => {
    const { res, body } = await get('/thing', { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'HEAD, GET');
    assert.equal(body?.code, 'METHOD_NOT_ALLOWED');
    assert.equal(body?.detail, 'DELETE is not allowed here; allowed: HEAD, GET');
  });

  it('gives a method nobody implements a 501 problem', async () => {
    const { res, body } = await get('/thing', { method: 'PROPFIND' });
    assert.equal(res.status, 501);
    assert.equal(body?.code, 'METHOD_NOT_IMPLEMENTED');
    assert.equal(body?.detail, 'Parley does not implement PROPFIND');
  });

  it('writes nothing more once a stream has started, but still logs the failure', async () => {
    const { res, text } = await get('/stream');
    assert.equal(res.status, 200);
    assert.equal(text, ': started\n\n');
    assert.ok(lines.some((l) => l.msg === 'request failed'));
  });
});
