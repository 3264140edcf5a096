import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { progress } from './progress.js';

/**
 * Load generators run as separate processes (so their CPU is not the gateway's event loop), driven
 * over IPC: the runner calls an operation and awaits its result. A worker keeps state between calls
 * (open XMPP clients, thousands of SSE streams) until it is stopped.
 *
 * A worker that dies (overload, a library crash) must not take the runner with it: pending and later
 * calls reject with why it died, and the runner starts a fresh one for the next scenario.
 */

export interface Worker {
  readonly name: string;
  readonly pid: number;
  call<T = unknown>(op: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** false once the process exited or its IPC channel closed */
  alive(): boolean;
  /** how it ended (exit code or signal, and the last errors it reported), undefined while alive */
  death(): string | undefined;
  stop(): Promise<void>;
}

type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { progress: string }
  | { hello: string };

const ENTRY = fileURLToPath(new URL('../load/worker.ts', import.meta.url));

export async function startWorker(name: string, opts: { heapMb?: number } = {}): Promise<Worker> {
  const execArgv = ['--import', 'tsx'];
  if (opts.heapMb) execArgv.push(`--max-old-space-size=${opts.heapMb}`);
  const child: ChildProcess = fork(ENTRY, [name], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  let died: string | undefined;
  const lastWords: string[] = [];
  const waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  const failAll = (why: string): void => {
    died ??= why;
    for (const w of waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error(`worker ${name} ${why} during a call`));
    }
    waiting.clear();
  };
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      failAll(
        `exited (${signal ?? code})${lastWords.length ? `; last reported: ${lastWords.join(' | ')}` : ''}`,
      );
      resolve();
    }),
  );
  // Without a listener, a send on a closed channel is an 'error' event that would end the runner.
  child.on('error', (err) => {
    progress(`  ${name}: ${err.message}`);
    if (!child.connected) failAll(`lost its IPC channel (${err.message})`);
  });
  // the exit that usually follows says more (code or signal) than the channel closing
  child.on('disconnect', () => setTimeout(() => failAll('closed its IPC channel'), 300).unref());
  child.on('message', (m: Reply) => {
    if ('hello' in m) return;
    if ('progress' in m) {
      progress(`  ${name}: ${m.progress}`);
      if (/uncaught|unhandled/.test(m.progress)) {
        lastWords.push(m.progress.slice(0, 300));
        lastWords.splice(0, Math.max(0, lastWords.length - 3));
      }
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
  const alive = (): boolean =>
    died === undefined && child.connected && child.exitCode === null && child.signalCode === null;
  return {
    name,
    pid: child.pid!,
    alive,
    death: () => died,
    call<T>(op: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
      if (!alive()) return Promise.reject(new Error(`worker ${name} is gone (${died ?? 'not connected'})`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${name}.${op} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        child.send({ id, op, args }, (err) => {
          if (!err) return;
          waiting.delete(id);
          clearTimeout(timer);
          reject(new Error(`${name}.${op}: could not send (${err.message})`));
        });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ id: 0, op: 'exit' }, () => undefined);
      else child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
