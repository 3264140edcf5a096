import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Ports for the servers the rig, the demo and the bench start, chosen below the range the kernel hands out
 * for outgoing connections (`ip_local_port_range`, 32768–60999 by default). A port the kernel picks for a
 * listener (port 0) is an ephemeral one: between closing the probe and the server binding it, any of the
 * thousands of connections a test run opens could get it as its local port, and the server then fails with
 * "port in use" (seen: a demo's Prosody, 2026-12-07). Below that range only another listener can take it.
 */
const LOWEST = 20_000;

/** The first port of the kernel's range for outgoing connections. */
function ephemeralStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Ports this process has handed out already: two calls never return the same one. */
const handedOut = new Set<number>();

/** Binds `port` on loopback and closes it again: free now, or not. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the kernel assigns (the fallback where the range below the ephemeral ones is too small). */
function kernelPort(): Promise<number> {
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

/** An unused loopback port below the ephemeral range, not handed out before by this process. */
export async function freePort(): Promise<number> {
  const end = ephemeralStart();
  if (end - LOWEST >= 1000)
    for (let attempt = 0; attempt < 200; attempt++) {
      const port = LOWEST + Math.floor(Math.random() * (end - LOWEST));
      if (handedOut.has(port)) continue;
      handedOut.add(port);
      if (await canListen(port)) return port;
    }
  const port = await kernelPort();
  handedOut.add(port);
  return port;
}

/** `n` distinct free ports, none in `exclude`. */
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
