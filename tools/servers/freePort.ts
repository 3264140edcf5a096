import { createServer } from 'node:net';

/**
 * Asks the kernel for an unused loopback port. There is a small window between closing and the
 * server binding it; ephemeral ports are handed out round-robin, so a collision there is unlikely.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('freePort: no port assigned'))));
    });
  });
}

/** `n` distinct free ports, none in `exclude` (separate freePort() calls may return the same one). */
export async function freePorts(n: number, exclude: Iterable<number> = []): Promise<number[]> {
  const avoid = new Set(exclude);
  const ports: number[] = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!avoid.has(p)) {
      avoid.add(p);
      ports.push(p);
    }
  }
  return ports;
}

/** The given ports as they are, each missing one replaced by a free port distinct from all the others. */
export async function fillPorts(given: (number | undefined)[]): Promise<number[]> {
  const fixed = given.filter((p): p is number => p !== undefined);
  const picked = await freePorts(given.length - fixed.length, fixed);
  return given.map((p) => p ?? picked.shift()!);
}
