import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

/** A tiny static web server on its own loopback port: a page there is on another origin than Parley. */
export interface StaticPages {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** `mounts` maps URL prefixes (ending in `/`) to directories; the longest matching prefix wins. */
export async function startStaticPages(mounts: Record<string, string>): Promise<StaticPages> {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = prefixes.find((p) => path.startsWith(p));
    const root = prefix === undefined ? undefined : mounts[prefix]!;
    const file = root && normalize(join(root, path.slice(prefix!.length)));
    // Nothing outside the mounted directories, whatever `..` the path holds.
    if (!file || !file.startsWith(root + sep) || !TYPES[extname(file)]) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (data) => res.writeHead(200, { 'Content-Type': TYPES[extname(file)]! }).end(data),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
