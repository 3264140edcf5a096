import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rssKb } from './proc.js';

/**
 * Parley as an operator runs it (src/main.ts in its own process, configured by environment), so the
 * gateway's CPU and memory are its own and readable from /proc. `--cpu-prof` writes a V8 profile
 * when it exits (main.ts exits on SIGTERM after a graceful stop).
 */

export interface ParleyProcess {
  url: string;
  pid: number;
  label: string;
  rssKb(): number;
  output(): string;
  /** null while running; the exit code (or signal name) once it exited */
  exitCode(): number | string | null;
  /** the heap figures prom-client exposes on /metrics */
  heap(): Promise<{ usedMb: number; totalMb: number } | undefined>;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function startParleyProcess(opts: {
  label: string;
  port: number;
  env: Record<string, string>;
  cpuProfDir?: string;
  heapMb?: number;
  /** another checkout to run (A/B: e.g. a branch with a proposed fix); default this repository */
  root?: string;
  /** extra node flags, e.g. --heapsnapshot-signal=SIGUSR2 */
  nodeArgs?: string[];
  /** compiled JavaScript to run instead of src/main.ts under tsx (e.g. dist/main.js after npm run build) */
  entry?: string;
}): Promise<ParleyProcess> {
  // Compiled JavaScript runs without tsx's loader (its preloads in nodeArgs must be JavaScript too).
  const args = [...(opts.entry ? [] : ['--import', 'tsx']), ...(opts.nodeArgs ?? [])];
  if (opts.heapMb) args.push(`--max-old-space-size=${opts.heapMb}`);
  if (opts.cpuProfDir) {
    // One directory per gateway process: tsx's loader thread writes a profile of its own next to the
    // main thread's (CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; the main thread is id 0).
    const dir = join(opts.cpuProfDir, `${opts.label}-${Date.now()}`);
    await mkdir(dir, { recursive: true });
    args.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  args.push(opts.entry ?? 'src/main.ts');
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: opts.root ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...opts.env,
      PARLEY_PORT: String(opts.port),
      PARLEY_HOST: '127.0.0.1',
      PARLEY_LOG_LEVEL: opts.env.PARLEY_LOG_LEVEL ?? 'warn',
    },
  });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString('utf8');
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`parley (${opts.label}) exited during start-up:\n${out.slice(-4000)}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`parley (${opts.label}) not ready after 60 s:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const secret = opts.env.PARLEY_SECRET!;
  return {
    url,
    pid: child.pid!,
    label: opts.label,
    rssKb: () => rssKb(child.pid!),
    output: () => out,
    exitCode: () => child.exitCode ?? child.signalCode ?? null,
    async heap() {
      try {
        const r = await fetch(`${url}/metrics`, { headers: { Authorization: secret } });
        const text = await r.text();
        const num = (name: string): number =>
          Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
        return {
          usedMb: num('nodejs_heap_size_used_bytes') / 2 ** 20,
          totalMb: num('nodejs_heap_size_total_bytes') / 2 ** 20,
        };
      } catch {
        return undefined;
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
  };
}
