import type Router from '@koa/router';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { BridgeError } from '../../errors/BridgeError.js';
import { OPENAPI_FILE } from '../../paths.js';

// Resolved through package.json, without importing the package (its index.js would load the 1.4 MB bundle).
const require = createRequire(import.meta.url);
const SWAGGER_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_VERSION = (require('swagger-ui-dist/package.json') as { version: string }).version;

const JS = 'text/javascript; charset=utf-8';
/** The only files /docs/<asset> serves from swagger-ui-dist, with their content types. */
const ASSETS = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', JS],
  ['swagger-ui-standalone-preset.js', JS],
  ['favicon-16x16.png', 'image/png'],
  ['favicon-32x32.png', 'image/png'],
]);

// No inline script or style, so a strict Content-Security-Policy can be added without exceptions.
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Parley API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
});
`;

const INIT_TAG = createHash('sha256').update(INIT).digest('base64url').slice(0, 16);

let spec: unknown;
const files = new Map<string, Buffer>();

/**
 * GET /openapi.json — the contract, parsed from openapi/openapi.yaml (source of truth).
 * GET /docs — Swagger UI, served from the swagger-ui-dist package (no CDN); GET /docs/<asset> its files.
 */
export function docsRoutes(router: Router): void {
  router.get('/openapi.json', async (ctx) => {
    spec ??= parse(await readFile(OPENAPI_FILE, 'utf8'));
    ctx.body = spec;
  });

  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = PAGE;
  });

  router.get('/docs/:asset', async (ctx) => {
    const name = ctx.params.asset!;
    const type = name === 'init.js' ? JS : ASSETS.get(name); // a Map: no inherited keys like `constructor`
    if (!type) throw new BridgeError('NOT_FOUND', `no asset ${name.slice(0, 80)}`);
    ctx.status = 200; // ctx.fresh only compares validators on a 2xx
    ctx.type = type;
    // The URLs are not versioned: cache for an hour, then revalidate (ETag: package version, or init.js's hash).
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.etag = name === 'init.js' ? `parley-init-${INIT_TAG}` : `swagger-ui-dist@${SWAGGER_VERSION}/${name}`;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    if (name === 'init.js') {
      ctx.body = INIT;
      return;
    }
    let file = files.get(name);
    if (!file) files.set(name, (file = await readFile(join(SWAGGER_DIR, name))));
    ctx.body = file;
  });
}
