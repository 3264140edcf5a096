import assert from 'node:assert/strict';
import Router from '@koa/router';
import { IndexedRouter, literalPrefix, templateSegments } from '../../../src/http/IndexedRouter.js';

// Templates shaped like Parley's: fixed paths, parameters, wildcards, optional groups, a raw regexp, middleware.
const TEMPLATES: [method: string, path: string | RegExp][] = [
  ['get', '/healthz'],
  ['get', '/docs/:asset'],
  ['get', '/chat{/}'],
  ['get', '/files/*rest'],
  ['get', '/restapi/v1/chat/users'],
  ['get', '/restapi/v1/chat/:streamid/events'],
  ['post', '/restapi/v1/chat/:streamid/messages/:to'],
  ['post', '/restapi/v1/chat/:streamid/rooms/:room'],
  ['put', '/restapi/v1/chat/:streamid/rooms/:room'],
  ['delete', '/restapi/v1/chat/:streamid'],
  ['post', '/restapi/v1/chat'],
  ['get', '/restapi/v1/admin/users/:user/messages'],
  ['get', '/sse/:username'],
  ['get', /^\/legacy\/(\d+)$/],
  ['post', '/api/\\:literal'],
  ['get', '/'],
  ['get', '/files/:id.:ext'],
];

const PATHS = [
  '/',
  '/healthz',
  '/healthz/',
  '/HEALTHZ',
  '/docs/a.css',
  '/docs',
  '/chat',
  '/chat/',
  '/files/a/b/c',
  '/restapi/v1/chat/users',
  '/restapi/v1/chat/users/',
  '/restapi/v1/chat/users/events',
  '/RestAPI/V1/Chat/abc/Messages/bob%40localhost',
  '/restapi/v1/chat/abc/messages/bob',
  '/restapi/v1/chat/abc/rooms/lobby',
  '/restapi/v1/chat/abc',
  '/restapi/v1/chat',
  '/restapi/v1/chat/',
  '/restapi/v1/chatter',
  '/restapi/v1/admin/users/ann/messages',
  '/sse/ann',
  '/legacy/42',
  '/api/:literal',
  '/api/x',
  '/restapi/v1/chat/%7Eabc/events',
  '/restapi/v1/chat/K/events',
  '/unknown/path',
  '/files/a.png',
  '/restapi/v1/chat/abc/messages/bob/',
  '/restapi/v1/chat/abc/messages/bob//',
  '/restapi/v1/chat/abc/messages/',
  '/restapi/v1/chat//events',
  '/restapi//v1/chat/abc/events',
  '/restapi/v1/chat/abc/events/extra',
  '/restapi/v1/chat/a%2Fb/events',
  '/restapi/v1/admin/users/ann/messages/',
  '/sse/',
  '//',
  '',
];

function build<R extends Router>(router: R): R {
  router.use(async (_ctx, next) => next()); // a middleware layer: matches every path
  router.use('/restapi/v1/admin', async (_ctx, next) => next());
  for (const [method, path] of TEMPLATES) {
    const register = router[method as 'get'].bind(router) as (p: string | RegExp, mw: () => void) => unknown;
    register(path, () => undefined);
  }
  return router;
}

const names = (layers: { path: string | RegExp; methods: string[] }[]) =>
  layers.map((l) => `${l.methods.join(',')} ${String(l.path)}`);

describe('IndexedRouter', () => {
  it('reads whole-segment templates, and leaves every other kind to the prefix test', () => {
    const segs = (path: string | RegExp, opts = {}) => templateSegments({ path, opts });
    assert.deepEqual(segs('/restapi/v1/Chat/:streamid/messages/:to'), [
      '',
      'restapi',
      'v1',
      'chat',
      null,
      'messages',
      null,
    ]);
    assert.deepEqual(segs('/healthz'), ['', 'healthz']);
    for (const other of ['/', '/files/*rest', '/chat{/}', '/files/:id.:ext', '/a//b', '/api/\\:x', 'x/y'])
      assert.equal(segs(other), undefined, other);
    assert.equal(segs(/^\/x/), undefined);
    assert.equal(segs('/a/:b', { end: false }), undefined);
    assert.equal(segs('/a/:b', { strict: true }), undefined);
  });

  it('matches exactly the layers @koa/router matches, in the same order', () => {
    const plain = build(new Router());
    const indexed = build(new IndexedRouter());
    for (const path of PATHS) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'get']) {
        const a = plain.match(path, method);
        const b = indexed.match(path, method);
        assert.deepEqual(names(b.path), names(a.path), `${method} ${path}`);
        assert.deepEqual(names(b.pathAndMethod), names(a.pathAndMethod), `${method} ${path}`);
        assert.equal(b.route, a.route, `${method} ${path}`);
      }
    }
  });

  it('sees routes added after its first match, and a prefix set later', () => {
    const router = new IndexedRouter();
    router.get('/a', () => undefined);
    assert.equal(router.match('/b', 'GET').route, false);
    router.get('/b', () => undefined);
    assert.equal(router.match('/b', 'GET').route, true);
    router.prefix('/v2');
    assert.equal(router.match('/b', 'GET').route, false);
    assert.equal(router.match('/v2/b', 'GET').route, true);
  });

  it('takes the literal text before the first parameter, wildcard, group or escape', () => {
    const prefix = (path: string | RegExp, opts = {}) => literalPrefix({ path, opts });
    assert.equal(prefix('/restapi/v1/chat/:streamid/messages'), '/restapi/v1/chat/');
    assert.equal(prefix('/Files/*rest'), '/files/');
    assert.equal(prefix('/chat{/}'), '/chat');
    assert.equal(prefix('/api/\\:x'), '/api/');
    assert.equal(prefix('/healthz'), '/healthz');
    assert.equal(prefix(/^\/x/), '');
    assert.equal(prefix('^/x$', { pathAsRegExp: true }), '');
  });
});
