import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { freePort } from './freePort.js';
import { spawnManaged, tail, waitReady } from './child.js';

/** A throw-away Redis: no persistence, loopback only, foreground child. */

export interface RunningRedis { url: string; port: number; stop(): Promise<void> }

// A raw RESP PING: readiness needs no client library, and a refused or LOADING reply just means "not yet".
function pings(port: number): Promise<boolean> {
  return new Promise((done) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let buf = '';
    const finish = (ok: boolean): void => { sock.destroy(); done(ok); };
    sock.setTimeout(1000, () => finish(false));
    sock.once('error', () => finish(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) finish(buf.startsWith('+PONG'));
    });
  });
}

export async function startRedis(opts: { dir: string; port?: number }): Promise<RunningRedis> {
  const dir = resolve(opts.dir);
  const port = opts.port ?? await freePort();
  await mkdir(dir, { recursive: true });
  const child = spawnManaged('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { cwd: dir });
  await waitReady('redis-server', child, () => pings(port),
    async () => `--- redis-server output (tail) ---\n${tail(child.output())}`, { timeoutMs: 15_000, intervalMs: 10 });
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => child.stop('SIGTERM', 5000) };
}
