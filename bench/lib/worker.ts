import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { progress } from './progress.js';

/**
 * Load generators run as separate processes (so their CPU is not the gateway's event loop), driven
 * over IPC: the runner calls an operation and awaits its result. A worker keeps state between calls
 * (open XMPP clients, thousands of SSE streams) until it is stopped.
 */

export interface Worker {
  readonly name: string;
  readonly pid: number;
  call<T = unknown>(op: string, args?: unknown, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

type Reply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string } | { progress: string };

const ENTRY = fileURLToPath(new URL('../load/worker.ts', import.meta.url));

export async function startWorker(name: string, opts: { heapMb?: number } = {}): Promise<Worker> {
  const execArgv = ['--import', 'tsx'];
  if (opts.heapMb) execArgv.push(`--max-old-space-size=${opts.heapMb}`);
  const child: ChildProcess = fork(ENTRY, [name], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const w of waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new Error(`worker ${name} exited (${signal ?? code}) during a call`));
      }
      waiting.clear();
      resolve();
    }),
  );
  child.on('message', (m: Reply) => {
    if ('progress' in m) {
      progress(`  ${name}: ${m.progress}`);
      return;
    }
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    clearTimeout(w.timer);
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(`${name}: ${m.error}`));
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve()); // the worker says hello once its modules are loaded
    child.once('exit', (code) => reject(new Error(`worker ${name} exited (${code}) while starting`)));
  });
  process.once('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return {
    name,
    pid: child.pid!,
    call<T>(op: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${name}.${op} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        child.send({ id, op, args });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ id: 0, op: 'exit' });
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
