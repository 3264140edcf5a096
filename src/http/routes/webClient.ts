import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import { readFile, readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { extname, join } from 'node:path';
import { BridgeError } from '../../errors/BridgeError.js';
import { PROJECT_ROOT } from '../../paths.js';

/** Where `npm run build:web` puts the web client (web/vite.config.ts). */
export const WEB_DIST = join(PROJECT_ROOT, 'web', 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};
/** Content-hashed names (`index-BVU1k4Da.js`) never change: cache them for a year. */
const HASHED = /-[A-Za-z0-9_-]{8}\.[a-z0-9]+$/;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

/** The built files, read once per build (a rebuild changes index.html's mtime, which drops the cache). */
let cache: { dir: string; stamp: number; assets: Map<string, Asset> } | undefined;

/** The built files, or undefined when the client was never built. */
async function load(dir: string): Promise<Map<string, Asset> | undefined> {
  let stamp: number;
  try {
    stamp = (await stat(join(dir, 'index.html'))).mtimeMs;
  } catch {
    cache = undefined;
    return undefined;
  }
  if (cache?.dir === dir && cache.stamp === stamp) return cache.assets;
  const assets = new Map<string, Asset>();
  for (const name of await readdir(dir)) {
    const type = TYPES[extname(name)];
    if (!type || !SAFE_NAME.test(name)) continue;
    const body = await readFile(join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name, { body, type, etag, immutable: HASHED.test(name) });
  }
  cache = { dir, stamp, assets };
  return assets;
}

async function serve(ctx: RouterContext, dir: string, name: string): Promise<void> {
  const assets = await load(dir);
  if (!assets) {
    // Not a crash but a missing deployment step: say so plainly, as a 503 problem+json (the error table has no
    // code for it, so INTERNAL with a detail that names the fix).
    ctx.status = 503;
    ctx.type = 'application/problem+json';
    ctx.set('Retry-After', '30');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      type: 'https://parley.dev/problems/internal',
      title: 'Internal server error',
      status: 503,
      code: 'INTERNAL',
      detail: 'the web client is not built: run `npm run build:web`',
      requestId: ctx.state.requestId as string,
    };
    return;
  }
  const asset = SAFE_NAME.test(name) ? assets.get(name) : undefined;
  if (!asset) throw new BridgeError('NOT_FOUND', `no web client file ${name.slice(0, 80)}`);
  ctx.status = 200; // ctx.fresh only compares validators on a 2xx
  ctx.type = asset.type;
  ctx.etag = asset.etag;
  ctx.set('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  ctx.set('X-Content-Type-Options', 'nosniff');
  if (name === 'index.html') {
    // The page runs only its own files; it talks to this gateway alone. Framed by any site (the embed snippet).
    // Images may also come over https (the host site's avatars, docs/host-site.md: no script runs from an
    // image); audio and video play from blob: URLs of files fetched with the session token (MediaPlayer).
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; connect-src 'self'; img-src 'self' data: https:; media-src 'self' blob:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'",
    );
    ctx.set('Referrer-Policy', 'no-referrer');
  }
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.body = asset.body;
}

/**
 * GET /chat (and /chat/) — the embeddable web chat client (web/, built into web/dist by `npm run build:web`).
 * GET /chat/{asset} — its built files: content-hashed ones cached for a year, the page and embed.js revalidated.
 * 503 problem+json when the client was never built.
 */
export function webClientRoutes(router: Router, dir: string = WEB_DIST): void {
  router.get('/chat', (ctx) => serve(ctx, dir, 'index.html')); // also answers /chat/ (the router is not strict)
  router.get('/chat/:asset', (ctx) => serve(ctx, dir, ctx.params.asset!));
}
