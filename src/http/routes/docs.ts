import type Router from '@koa/router';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const SPEC = fileURLToPath(new URL('../../../openapi/openapi.yaml', import.meta.url));
let cached: unknown;

/** GET /openapi.json — the contract, parsed from openapi/openapi.yaml (source of truth). */
export function docsRoutes(router: Router): void {
  router.get('/openapi.json', async (ctx) => {
    cached ??= parse(await readFile(SPEC, 'utf8'));
    ctx.body = cached;
  });
}
