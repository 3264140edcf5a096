import { spawn, execFile, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * Shared plumbing for the throw-away servers: a foreground child whose exit we observe directly
 * (waiting on our own child's `exit` event avoids the zombie/kill -0 trap of reparented processes),
 * and a readiness poll that fails fast with the server's own diagnostics when the child dies.
 */

const execFileP = promisify(execFile);
const OUTPUT_LIMIT = 16_384;

export interface ManagedChild {
  readonly pid: number | undefined;
  running(): boolean;
  /** Resolves once the child has exited (immediately if it already has). */
  exited(): Promise<void>;
  /** Exit description such as `code 1` or `signal SIGKILL`, or undefined while running. */
  exitReason(): string | undefined;
  /** The last ~16 KB of stdout+stderr: where servers report start-up errors before their log exists. */
  output(): string;
  /** Sends `signal`, escalates to SIGKILL after `graceMs`, resolves on the exit event. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const live = new Set<ManagedChild>();
let exitHookInstalled = false;

// A crashed or process.exit()-ed test run must not leave servers holding ports and temp dirs.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live)
      if (c.pid !== undefined)
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
  });
}

export function spawnManaged(cmd: string, args: string[], opts: SpawnOptions = {}): ManagedChild {
  installExitHook();
  const proc = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);

  let reason: string | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      reason = signal ? `signal ${signal}` : `code ${code ?? '?'}`;
      live.delete(child);
      resolve();
    });
    // spawn failures (ENOENT, EACCES) come as 'error' without an 'exit'.
    proc.once('error', (err) => {
      if (reason === undefined) reason = `spawn error: ${err.message}`;
      live.delete(child);
      resolve();
    });
  });

  const child: ManagedChild = {
    pid: proc.pid,
    running: () => reason === undefined,
    exited: () => exited,
    exitReason: () => reason,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) {
      if (reason !== undefined) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(child);
  return child;
}

/** Runs a short command to completion; the error carries its stderr so failures explain themselves. */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; uid?: number; gid?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { ...opts, maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    const detail = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim();
    throw new Error(
      `${cmd} ${args[0] ?? ''} failed: ${e.message.split('\n')[0]}${detail ? `\n${detail}` : ''}`,
      { cause: err },
    );
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `ready` until it answers true. Rejects with `diagnostics()` when the child exits first,
 * `ready` throws (a definite failure) or the timeout passes, so a broken config shows up as the server's own error message, not a bare timeout.
 */
export async function waitReady(
  name: string,
  child: ManagedChild,
  ready: () => Promise<boolean>,
  diagnostics: () => Promise<string>,
  { timeoutMs = 15_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.running()) {
      throw new Error(`${name} exited during start-up (${child.exitReason()})\n${await diagnostics()}`);
    }
    let ok: boolean;
    try {
      ok = await ready();
    } catch (err) {
      await child.stop('SIGKILL');
      throw new Error(`${(err as Error).message}\n${await diagnostics()}`, { cause: err });
    }
    if (ok) return;
    if (Date.now() > deadline) {
      await child.stop('SIGKILL');
      throw new Error(`${name} not ready after ${timeoutMs} ms\n${await diagnostics()}`);
    }
    await sleep(intervalMs);
  }
}

/** Last `lines` lines of `text`, for error messages. */
export function tail(text: string, lines = 30): string {
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n')
    .trimEnd();
}
