import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serverKind } from '../rig/serverKind.js';

/** `npm run demo` minus the install step: Prosody (or ejabberd) + embedded PGlite + Parley from one data dir. */
export interface Demo {
  child: ChildProcess;
  url: string;
  secret: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts scripts/demo.ts in a child process on `dataDir` and waits for its printed quick-start. `env` adds to
 * (or overrides) the demo's own settings, e.g. PARLEY_CORS_ORIGINS for a page on another origin.
 */
export async function startDemo(dataDir: string, env: Record<string, string> = {}): Promise<Demo> {
  // The demo on the rig's kind of XMPP server (`npm run demo -- --server ejabberd` on the ejabberd pass).
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--server', serverKind()], {
    env: {
      ...process.env,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_PORT: '0',
      PARLEY_LOG_LEVEL: 'warn',
      DATABASE_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  // Polls the child's output: the quick-start is printed once everything listens.
  while (!/Master secret:\s+\S+/.test(out)) {
    if (child.exitCode !== null) throw new Error(`demo exited early:\n${out}`);
    if (Date.now() - started > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`demo did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /Explorer[^:]*:\s+(http:\/\/\S+)\/docs/.exec(out)![1]!;
  const secret = /Master secret:\s+(\S+)/.exec(out)![1]!;
  return {
    child,
    url,
    secret,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

/**
 * Registers an account with a password of its own on the XMPP server of the demo in `dataDir`, as the rig
 * registers users: prosodyctl on the demo's Prosody config, or ejabberd's HTTP API (loopback is allowed).
 */
export async function registerOnDemo(
  dataDir: string,
  domain: string,
  username: string,
  password: string,
): Promise<void> {
  const state = JSON.parse(await readFile(join(dataDir, 'demo-xmpp.json'), 'utf8')) as {
    server?: string;
    httpPort: number;
  };
  if ((state.server ?? 'prosody') === 'ejabberd') {
    const res = await fetch(`http://127.0.0.1:${state.httpPort}/api/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: username, host: domain, password }),
    });
    if (!res.ok) throw new Error(`ejabberd register ${username}: ${res.status} ${await res.text()}`);
    return;
  }
  const dir = join(dataDir, 'prosody');
  await promisify(execFile)(
    'prosodyctl',
    ['--config', join(dir, 'prosody.cfg.lua'), 'register', username, domain, password],
    { cwd: dir },
  );
}
