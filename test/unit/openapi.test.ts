import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import Router from '@koa/router';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { createFeatures } from '../../src/startParley.js';
import { ALLOW_ALL } from '../../src/moderation/index.js';
import { StanzaRouter } from '../../src/xmpp/StanzaRouter.js';
import { memoryLimiters } from '../../src/limits/limiter.js';
import { ERROR_CODES } from '../../src/errors/codes.js';
import { createLogger } from '../../src/log.js';
import { SecretBox } from '../../src/crypto/SecretBox.js';
import { EventHub } from '../../src/sse/EventHub.js';
import { createPgEventStore } from '../../src/messages/EventStore.js';
import { createPgMessageLog } from '../../src/messages/createPgMessageLog.js';
import { TimedDb } from '../../src/store/TimedDb.js';
import { AccountService } from '../../src/sessions/AccountService.js';
import { CredentialVerifier } from '../../src/sessions/CredentialVerifier.js';
import { SessionManager } from '../../src/sessions/SessionManager.js';
import { createPgSessionStore } from '../../src/sessions/SessionStore.js';
import {
  HTTP_METHODS,
  expectEventMatchesSpec,
  expectResponseMatchesSpec,
  pointer,
  schemaErrors,
  spec,
  type OperationObject,
} from '../helpers/openapi.js';

const SECRET = 'openapi-test-master-secret';

/**
 * The app as startParley builds it, every feature included, with real but inert dependencies: nothing
 * connects until a request needs a session, a token or the database (features connect in start(), which
 * is never called), and the requests below never do. Enough to read the routes and answer the probes.
 */
function inertApp(health = { db: true, xmpp: true }): Koa {
  const config = loadConfig({
    XMPP_SERVICE: 'xmpp://127.0.0.1:1',
    XMPP_DOMAIN: 'example.org',
    PARLEY_MAX_BODY_BYTES: '1024',
  });
  const log = createLogger('silent');
  const pool = new pg.Pool({ host: '127.0.0.1', port: 1 }); // never queried by the requests below
  const store = createPgSessionStore(pool);
  const hub = new EventHub({ store: createPgEventStore(new TimedDb(pool)), log });
  const x = config.xmpp;
  const verifier = new CredentialVerifier({ service: x.service, domain: x.domain });
  const box = new SecretBox(SECRET);
  const accounts = new AccountService({ store, box, domain: x.domain });
  const sessions = new SessionManager({
    store,
    hub,
    accounts,
    verifier,
    log,
    idleSeconds: 60,
    xmpp: { service: x.service, domain: x.domain, reconnectMaxSeconds: 1 },
  });
  const stanzas = new StanzaRouter(log);
  const messages = createPgMessageLog({ db: new TimedDb(pool), events: hub.store, sink: hub });
  const features = createFeatures(
    { config, log, db: pool, hub, messages, sessions, stanzas, box, limiter: memoryLimiters },
    ALLOW_ALL,
  );
  return createApp({
    log,
    secret: SECRET,
    maxBodyBytes: config.http.maxBodyBytes,
    heartbeatMs: 15_000,
    publicUrl: (path) => `http://parley.test${path}`,
    sessions,
    verifier,
    hub,
    features,
    health: { dbPing: async () => health.db, xmppPing: async () => health.xmpp },
  });
}

/** "GET /restapi/v1/chat/{streamid}" for every route the app's router serves (HEAD aside). */
function routerOperations(app: Koa): string[] {
  const routers = app.middleware.flatMap((mw) =>
    'router' in mw && mw.router instanceof Router ? [mw.router] : [],
  );
  assert.equal(routers.length, 1, 'createApp mounts exactly one router');
  return routers[0]!.stack.flatMap((layer) => {
    assert.equal(typeof layer.path, 'string', 'routes have string paths');
    const path = String(layer.path).replace(/:(\w+)/g, '{$1}');
    return layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${path}`);
  });
}

function specOperations(): [string, OperationObject][] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    HTTP_METHODS.flatMap((m) =>
      item[m] ? [[`${m.toUpperCase()} ${path}`, item[m]] as [string, OperationObject]] : [],
    ),
  );
}

describe('openapi.yaml', () => {
  describe('meta-rules', () => {
    it('gives every operation a unique operationId, a declared tag, a summary and a description', () => {
      const tags = new Set(spec.tags?.map((t) => t.name));
      const ids = new Set<string>();
      for (const [op, o] of specOperations()) {
        assert.ok(o.operationId, `${op} has no operationId`);
        assert.ok(!ids.has(o.operationId), `${op}: operationId ${o.operationId} is used twice`);
        ids.add(o.operationId);
        assert.ok(o.tags?.length, `${op} has no tag`);
        for (const t of o.tags) assert.ok(tags.has(t), `${op}: tag ${t} is not declared under tags`);
        assert.ok(o.summary, `${op} has no summary`);
        assert.ok(o.description, `${op} has no description`);
      }
    });

    it('gives every component schema a description and an example that matches it', () => {
      for (const [name, schema] of Object.entries(spec.components.schemas)) {
        assert.ok(
          typeof schema.description === 'string' && schema.description,
          `schema ${name} has no description`,
        );
        const examples = Array.isArray(schema.examples)
          ? schema.examples
          : 'example' in schema
            ? [schema.example]
            : [];
        assert.ok(examples.length > 0, `schema ${name} has no example`);
        for (const example of examples) {
          const errors = schemaErrors(pointer('components', 'schemas', name), example);
          assert.equal(errors, undefined, `schema ${name}: its example does not match it: ${errors}`);
        }
      }
    });

    it('checks every response example against its schema', () => {
      const check = (
        where: string,
        content: Record<
          string,
          { schema?: unknown; example?: unknown; examples?: Record<string, { value?: unknown }> }
        >,
        at: string,
      ) => {
        for (const [type, media] of Object.entries(content)) {
          const values = [
            ...('example' in media ? [media.example] : []),
            ...Object.values(media.examples ?? {}).map((e) => e.value),
          ];
          for (const v of values) {
            const errors = schemaErrors(`${at}/content/${type.replace(/\//g, '~1')}/schema`, v);
            assert.equal(errors, undefined, `${where} ${type}: example does not match: ${errors}`);
          }
        }
      };
      for (const [name, r] of Object.entries(spec.components.responses))
        check(`response ${name}`, r.content ?? {}, pointer('components', 'responses', name));
      for (const [path, item] of Object.entries(spec.paths)) {
        for (const m of HTTP_METHODS) {
          for (const [status, r] of Object.entries(item[m]?.responses ?? {})) {
            if (!r.$ref)
              check(
                `${m} ${path} ${status}`,
                r.content ?? {},
                pointer('paths', path, m, 'responses', status),
              );
          }
        }
      }
    });

    it('lists every code of the error table, and only those, in ErrorCode', () => {
      assert.deepEqual(
        [...(spec.components.schemas.ErrorCode!.enum as string[])].sort(),
        Object.keys(ERROR_CODES).sort(),
      );
    });

    it('documents every shared error response as application/problem+json with the Problem schema', () => {
      for (const [name, r] of Object.entries(spec.components.responses)) {
        const problem = r.content?.['application/problem+json'];
        if (!problem) continue;
        assert.deepEqual(problem.schema, { $ref: '#/components/schemas/Problem' }, `response ${name}`);
      }
    });

    it('documents 401 wherever credentials are taken and 400 or 404 wherever a path names something', () => {
      for (const [op, o] of specOperations()) {
        const statuses = Object.keys(o.responses ?? {});
        if (o.security === undefined || o.security.length > 0)
          assert.ok(statuses.includes('401'), `${op} takes credentials but documents no 401`);
        if (op.includes('{'))
          assert.ok(
            statuses.includes('400') || statuses.includes('404'),
            `${op} documents neither 400 nor 404`,
          );
      }
    });
  });

  describe('routes', () => {
    it('has one spec operation per router route, and no other', () => {
      const routes = routerOperations(inertApp()).sort();
      const documented = specOperations()
        .map(([op]) => op)
        .filter((op) => !op.includes(' /rest/api/'))
        .sort();
      assert.deepEqual(
        {
          undocumented: routes.filter((r) => !documented.includes(r)),
          unrouted: documented.filter((d) => !routes.includes(d)),
        },
        { undocumented: [], unrouted: [] },
      );
      assert.equal(new Set(routes).size, routes.length, 'a route is registered twice');
    });

    it('documents the ofchat face (/rest/api) only over routes of Parley’s own face, which serve it', () => {
      const routes = routerOperations(inertApp());
      const face = specOperations().filter(([op]) => op.includes(' /rest/api/'));
      assert.ok(face.length >= 10, 'the ofchat face is documented');
      for (const [op, o] of face) {
        assert.deepEqual(o.tags, ['Ofchat'], op);
        assert.ok(
          routes.includes(op.replace(' /rest/api/', ' /')),
          `${op}: no route of Parley's own face serves it`,
        );
      }
    });
  });

  describe('responses that need no XMPP server or database', () => {
    let server: Server;
    let base: string;
    const open = async (app: Koa) => {
      server = createServer(app.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    afterEach(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    /** Sends the request and checks the answer against the spec; returns it for further checks. */
    async function call(
      method: string,
      path: string,
      template: string,
      init: { headers?: Record<string, string>; body?: string } = {},
    ) {
      const res = await fetch(base + path, { method, headers: init.headers, body: init.body });
      const type = res.headers.get('content-type') ?? '';
      const raw = Buffer.from(await res.arrayBuffer());
      const body = /json/.test(type)
        ? JSON.parse(raw.toString('utf8'))
        : /^text\//.test(type)
          ? raw.toString('utf8')
          : raw;
      expectResponseMatchesSpec(method, template, res.status, type, body);
      return { status: res.status, headers: res.headers, body };
    }

    it('answers on the ofchat face as ofchat does: 401 and unknown paths without a body', async () => {
      await open(inertApp());
      const refused = await call(
        'POST',
        '/rest/api/restapi/v1/chat/ps_x/logoff',
        '/rest/api/restapi/v1/chat/{streamid}/logoff',
      );
      assert.equal(refused.status, 401);
      const unknown = await fetch(`${base}/rest/api/restapi/v1/no/such/path`);
      assert.equal(unknown.status, 404);
      assert.equal(await unknown.text(), '');
      // Without PARLEY_CORS_ORIGINS no CORS headers at all.
      const preflight = await fetch(`${base}/rest/api/restapi/v1/chat/alice/login`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://a.example.com', 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    });

    it('answers the probes as documented', async () => {
      await open(inertApp());
      assert.equal((await call('GET', '/healthz', '/healthz')).status, 200);
      assert.deepEqual((await call('GET', '/readyz', '/readyz')).body, {
        status: 'ready',
        checks: { database: 'ok', xmpp: 'ok' },
      });
    });

    it('answers 503 with Retry-After when a dependency is down', async () => {
      await open(inertApp({ db: true, xmpp: false }));
      const res = await call('GET', '/readyz', '/readyz');
      assert.equal(res.status, 503);
      assert.ok(res.headers.get('retry-after'));
    });

    it('serves the spec as JSON and the explorer without a CDN', async () => {
      await open(inertApp());
      const json = await call('GET', '/openapi.json', '/openapi.json');
      assert.deepEqual(json.body, spec);
      const page = await call('GET', '/docs', '/docs');
      assert.match(String(page.body), /<script src="\/docs\/init\.js"><\/script>/);
      assert.doesNotMatch(String(page.body), /<script>|https?:\/\//, 'no inline script and no external URL');
      for (const asset of [
        'init.js',
        'swagger-ui.css',
        'swagger-ui-bundle.js',
        'swagger-ui-standalone-preset.js',
        'favicon-32x32.png',
      ]) {
        const res = await call('GET', `/docs/${asset}`, '/docs/{asset}');
        assert.equal(res.status, 200, asset);
        assert.ok(res.headers.get('etag'), `${asset} has an ETag`);
        // fetch adds `Cache-Control: no-cache` to conditional requests (which forbids a 304) unless one is set.
        const revalidate = { 'If-None-Match': res.headers.get('etag')!, 'Cache-Control': 'max-age=0' };
        const again = await call('GET', `/docs/${asset}`, '/docs/{asset}', { headers: revalidate });
        assert.equal(again.status, 304, `${asset} revalidates`);
      }
      assert.match(
        String((await call('GET', '/docs/init.js', '/docs/{asset}')).body),
        /persistAuthorization: true/,
      );
      for (const name of [
        'index.html',
        'package.json',
        '..%2Fpackage.json',
        'swagger-ui.js.map',
        'constructor',
        '__proto__',
      ]) {
        assert.equal((await call('GET', `/docs/${name}`, '/docs/{asset}')).status, 404, name);
      }
    });

    it('answers login errors that precede any XMPP work as documented', async () => {
      await open(inertApp());
      const login = '/restapi/v1/chat/{username}/login';
      const cases: [string, { headers?: Record<string, string>; body?: string }, number, string][] = [
        ['/restapi/v1/chat/al%2Fice/login', {}, 400, 'INVALID_USERNAME'],
        [
          '/restapi/v1/chat/alice/login',
          { headers: { 'content-type': 'application/json' }, body: '{"password":"x","user":"y"}' },
          400,
          'VALIDATION_FAILED',
        ],
        [
          '/restapi/v1/chat/alice/login',
          { headers: { 'content-type': 'application/xml' }, body: '<password/>' },
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        ],
        [
          '/restapi/v1/chat/alice/login',
          { headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(2048) },
          413,
          'BODY_TOO_LARGE',
        ],
        ['/restapi/v1/chat/alice/login', {}, 401, 'UNAUTHENTICATED'],
      ];
      for (const [path, init, status, code] of cases) {
        const res = await call('POST', path, login, init);
        assert.equal(res.status, status, `${path} ${init.body ?? ''}`);
        assert.equal((res.body as { code: string }).code, code);
      }
      const bad = await call('POST', '/restapi/v1/chat/alice/login', login, {
        headers: { 'content-type': 'application/json' },
        body: '{"password":',
      });
      assert.equal(bad.status, 400);
      assert.equal((bad.body as { code: string }).code, 'INVALID_JSON');
    });

    it('answers 401 and 404 on streams as documented', async () => {
      await open(inertApp());
      const master = { authorization: SECRET };
      assert.equal(
        (await call('GET', '/restapi/v1/chat/ps_AAAAAAAAAAAAAAAA', '/restapi/v1/chat/{streamid}')).status,
        401,
      );
      assert.equal(
        (
          await call('GET', '/restapi/v1/chat/ps_AAAAAAAAAAAAAAAA', '/restapi/v1/chat/{streamid}', {
            headers: master,
          })
        ).status,
        404,
      );
      assert.equal(
        (
          await call(
            'POST',
            '/restapi/v1/chat/ps_AAAAAAAAAAAAAAAA/logoff',
            '/restapi/v1/chat/{streamid}/logoff',
            { headers: master },
          )
        ).status,
        404,
      );
      assert.equal(
        (
          await call('GET', '/restapi/v1/chat/nope/events', '/restapi/v1/chat/{streamid}/events', {
            headers: master,
          })
        ).status,
        404,
      );
      assert.equal((await call('GET', '/sse/alice', '/sse/{username}', { headers: master })).status, 404);
      assert.equal((await call('GET', '/sse/alice', '/sse/{username}')).status, 401);
    });
  });

  describe('test/helpers/openapi', () => {
    it('rejects an undocumented status, an undocumented content type and a body that does not match', () => {
      assert.throws(
        () => expectResponseMatchesSpec('GET', '/healthz', 418, 'application/json', {}),
        /not documented/,
      );
      assert.throws(
        () => expectResponseMatchesSpec('GET', '/healthz', 200, 'text/html', ''),
        /content type "text\/html"/,
      );
      assert.throws(
        () => expectResponseMatchesSpec('GET', '/healthz', 200, 'application/json', { status: 'fine' }),
        /does not match/,
      );
      assert.throws(
        () => expectResponseMatchesSpec('DELETE', '/healthz', 200, 'application/json', {}),
        /not in openapi\.yaml/,
      );
      assert.throws(
        () =>
          expectResponseMatchesSpec('POST', '/restapi/v1/chat/{streamid}/logoff', 204, 'application/json', {
            a: 1,
          }),
        /without a body/,
      );
      expectResponseMatchesSpec('POST', '/restapi/v1/chat/{streamid}/logoff', 204, '', '');
      expectResponseMatchesSpec(
        'POST',
        '/restapi/v1/chat/{username}/login',
        201,
        'text/plain; charset=utf-8',
        'ps_3q2-7wVbX_9kLmNo',
      );
    });

    it('checks SSE events against SseEvent', () => {
      const base = { streamId: 'ps_3q2-7wVbX_9kLmNo', jid: 'alice@example.org' };
      expectEventMatchesSpec('chatapi.session', { type: 'online', ...base, snapshot: true });
      expectEventMatchesSpec(
        'chatapi.session',
        { type: 'offline', ...base, reason: 'logoff', id: '7', timestamp: '2025-05-01T09:41:00.000Z' },
        '7',
      );
      assert.throws(
        () =>
          expectEventMatchesSpec(
            'chatapi.session',
            { type: 'online', ...base, snapshot: true, id: '7' },
            '7',
          ),
        /does not match/,
      );
      assert.throws(
        () => expectEventMatchesSpec('chatapi.session', { type: 'away', ...base, snapshot: true }),
        /does not match/,
      );
      assert.throws(
        () =>
          expectEventMatchesSpec(
            'chatapi.chat',
            {
              type: 'chat',
              from: 'bob@example.org/phone',
              to: 'alice@example.org',
              id: '8',
              timestamp: '2025-05-01T09:41:00.000Z',
            },
            '9',
          ),
        /payload's id/,
      );
      assert.throws(() => expectEventMatchesSpec('chatapi.unknown', {}), /does not match/);
    });
  });
});
