import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { redisPings } from './probe.js';
import { freePort } from './freePort.js';
import { spawnManaged, tail, waitReady } from './child.js';

/** A throw-away Redis: no persistence, loopback only, foreground child. */

export interface RunningRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(opts: { dir: string; port?: number }): Promise<RunningRedis> {
  const dir = resolve(opts.dir);
  const port = opts.port ?? (await freePort());
  await mkdir(dir, { recursive: true });
  const child = spawnManaged(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    { cwd: dir },
  );
  await waitReady(
    'redis-server',
    child,
    () => redisPings(port),
    async () => `--- redis-server output (tail) ---\n${tail(child.output())}`,
    { timeoutMs: 15_000, intervalMs: 10 },
  );
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => child.stop('SIGTERM', 5000) };
}
