import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../tools/servers/freePort.js';
import { userNames, writeProsodyAccounts } from '../lib/accounts.js';
import { makeAgent, openSse, request, type SseStream } from '../lib/http.js';
import { startParleyProcess } from '../lib/parley.js';
import { summarize } from '../lib/stats.js';
import { prosodyPid } from '../lib/context.js';
import { cpuMs } from '../lib/proc.js';
import { eventsUrl, parleyLogin } from '../load/drivers.js';
import { gatewayEnv, startToolServers } from '../lib/servers.js';

/**
 * What one message and one session cost the gateway, counted rather than timed (steady on a shared machine):
 * - PostgreSQL round trips per delivered 1:1 message (A's REST send → B's SSE stream, B's receipt back to A),
 *   by statement, from a preload that counts node-postgres calls in the gateway (pg-count.ts);
 * - with --sessions N: the live V8 heap per session (N logins, each with an SSE stream), broken down by
 *   heap-by-file.ts from snapshots taken before and after; with --rss, the gateway's RSS growth per session instead.
 *
 *   node --import tsx bench/tools/gateway-cost.ts [--messages 200] [--sessions 1000] [--parley-root DIR] [--label X]
 *     [--concurrency 32] [--rss] [--strace] [--keep-snapshots DIR]
 *
 * Writes bench/results/<date>-cost-<label>.json (and .heap.txt with the breakdown).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const MESSAGES = Number(arg('messages', '200'));
const SESSIONS = Number(arg('sessions', '0'));
const PARLEY_ROOT = arg('parley-root', ROOT);
const LABEL = arg('label', 'current');
const HEAP = !process.argv.includes('--rss');
const STRACE = process.argv.includes('--strace'); // syscalls per message too (strace -c attached to the gateway) // --rss: RSS per session instead of the live heap (see perSession)
const CONCURRENCY = Number(arg('concurrency', '32')); // logins at once (300: the burst that used to crash the gateway)
const KEEP = arg('keep-snapshots', ''); // a directory to copy the two heap snapshots to, for a closer look
const log = (msg: string): void => {
  process.stderr.write(`[cost] ${msg}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const servers = await startToolServers('cost');
  const { tmp, prosody, postgres, password } = servers;
  const heapDir = join(tmp, 'heap');
  await mkdir(heapDir);
  const fleet = userNames('heap', SESSIONS);
  await writeProsodyAccounts(
    join(prosody.dir, 'data'),
    prosody.domain,
    ['costa', 'costb', ...fleet],
    password,
  );
  const countFile = join(tmp, 'pg-count.json');
  const parley = await startParleyProcess({
    label: 'cost',
    port: await freePort(),
    root: PARLEY_ROOT,
    nodeArgs: [
      '--import',
      join(ROOT, 'bench/tools/pg-count.ts'),
      '--heapsnapshot-signal=SIGUSR2',
      `--diagnostic-dir=${heapDir}`,
    ],
    env: { ...(await gatewayEnv(servers, 'cost')), PARLEY_BENCH_PGCOUNT: countFile },
  });
  const streams: SseStream[] = [];
  const out: Record<string, unknown> = {
    label: LABEL,
    parleyRoot: PARLEY_ROOT,
    date: new Date().toISOString(),
  };
  try {
    out.perMessage = await perMessage(parley.url, parley.pid, password, countFile, streams);
    if (SESSIONS > 0)
      out.sessions = await perSession(
        parley,
        fleet,
        password,
        heapDir,
        streams,
        countFile,
        prosodyPid(prosody),
      );
  } finally {
    for (const s of streams) s.close();
    if (parley.exitCode() !== null) log(`gateway exited: ${parley.output().slice(-2000)}`);
    await parley.stop();
    await Promise.allSettled([prosody.stop(), postgres.stop()]);
    await rm(tmp, { recursive: true, force: true });
  }
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const file = join(ROOT, 'bench/results', `${stamp}-cost-${LABEL}.json`);
  await writeFile(file, JSON.stringify(out, null, 2) + '\n');
  log(`wrote ${file}`);
}

/** `strace -c` on the gateway (all threads) until the returned function is called; then its counts by syscall. */
async function straceCounts(pid: number): Promise<() => Promise<Record<string, number>>> {
  const file = join(tmpdir(), `parley-strace-${pid}-${Date.now()}.txt`);
  const child = spawn('strace', ['-f', '-c', '-o', file, '-p', String(pid)], { stdio: 'ignore' });
  await sleep(1000); // attaching to every thread takes a moment
  return async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
    const counts: Record<string, number> = {};
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
      if (m && m[2] !== 'total') counts[m[2]!] = Number(m[1]);
    }
    await rm(file, { force: true });
    return counts;
  };
}

const perUnit = (counts: Record<string, number>, n: number): Record<string, number> =>
  Object.fromEntries(
    Object.entries(counts)
      .map(([k, v]) => [k, Math.round((v / n) * 10) / 10] as const)
      .filter(([, v]) => v >= 0.1)
      .sort((a, b) => b[1] - a[1]),
  );

const readTally = (file: string): Record<string, number> =>
  existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>) : {};

/** Waits until the gateway sent no statement for `ms` (receipts and their events trail the delivery). */
async function quiet(file: string, ms = 1500): Promise<void> {
  let last = JSON.stringify(readTally(file));
  let since = Date.now();
  while (Date.now() - since < ms) {
    await sleep(100);
    const now = JSON.stringify(readTally(file));
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

async function perMessage(
  url: string,
  pid: number,
  password: string,
  countFile: string,
  streams: SseStream[],
) {
  const agent = makeAgent(4);
  const a = await parleyLogin(url, 'costa', password, agent);
  const b = await parleyLogin(url, 'costb', password, agent);
  const waiting = new Map<string, () => void>();
  const receipts = { n: 0 };
  const sa = openSse(eventsUrl(a), (e) => {
    if (e.name === 'chatapi.receipt') receipts.n++;
  });
  const sb = openSse(eventsUrl(b), (e) => {
    if (e.name !== 'chatapi.chat') return;
    const p = JSON.parse(e.data) as { direction?: string; body?: string };
    if (p.direction === 'in' && p.body) waiting.get(p.body)?.();
  });
  streams.push(sa, sb);
  await Promise.all([sa.opened, sb.opened]);
  const to = encodeURIComponent(`${b.jid}/${b.resource}`);
  const send = async (body: string): Promise<number> => {
    const t = performance.now();
    const delivered = new Promise<void>((resolve) => waiting.set(body, resolve));
    const r = await request(agent, 'POST', `${url}/restapi/v1/chat/${a.streamId}/messages/${to}`, {
      headers: { Authorization: `Bearer ${a.token}`, 'Content-Type': 'text/plain; charset=utf-8' },
      body,
    });
    if (r.status !== 201) throw new Error(`send → ${r.status} ${r.body.slice(0, 200)}`);
    await delivered;
    waiting.delete(body);
    return performance.now() - t;
  };
  for (let i = 0; i < 20; i++) await send(`warm-up ${i}`);
  await quiet(countFile);
  const before = readTally(countFile);
  const receiptsBefore = receipts.n;
  const lat: number[] = [];
  const trace = STRACE ? await straceCounts(pid) : undefined;
  for (let i = 0; i < MESSAGES; i++) lat.push(await send(`message ${i}`));
  await quiet(countFile);
  const after = readTally(countFile);
  const syscalls = trace && perUnit(await trace(), MESSAGES);
  const byStatement: Record<string, number> = {};
  let total = 0;
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) {
      byStatement[k] = Math.round((d / MESSAGES) * 100) / 100;
      total += d;
    }
  }
  const result = {
    messages: MESSAGES,
    roundTripsPerMessage: Math.round((total / MESSAGES) * 100) / 100,
    byStatement,
    receiptsSeenBySender: receipts.n - receiptsBefore,
    sequentialSendToDeliverMs: summarize(lat),
    ...(syscalls ? { syscallsPerMessage: syscalls } : {}),
  };
  if (syscalls) log(`syscalls per message (strace -c): ${JSON.stringify(syscalls)}`);
  log(
    `${result.roundTripsPerMessage} round trips per delivered message: ${JSON.stringify(byStatement, null, 1)}`,
  );
  log(
    `one at a time, send → SSE delivery p50 ${result.sequentialSendToDeliverMs.p50} ms (noise on a shared machine)`,
  );
  agent.destroy();
  return result;
}

/** SIGUSR2 makes the gateway write a snapshot (--heapsnapshot-signal); it is done when its size stops changing. */
async function snapshot(pid: number, dir: string): Promise<string> {
  const seen = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (;;) {
    await sleep(500);
    const f = readdirSync(dir).find((n) => !seen.has(n) && n.endsWith('.heapsnapshot'));
    if (!f) continue;
    const size = statSync(join(dir, f)).size;
    await sleep(1000);
    if (size > 0 && statSync(join(dir, f)).size === size) return join(dir, f);
  }
}

async function perSession(
  parley: Awaited<ReturnType<typeof startParleyProcess>>,
  users: string[],
  password: string,
  heapDir: string,
  streams: SseStream[],
  countFile: string,
  prosody: number | undefined,
) {
  await sleep(2000);
  const tally0 = readTally(countFile);
  const cpu0 = { gateway: cpuMs(parley.pid), prosody: prosody ? cpuMs(prosody) : 0 };
  // A heap snapshot leaves the process bigger for good (its serialisation), so a run measures either the
  // live heap (snapshots before and after) or RSS (no snapshot at all), not both.
  const rss0 = parley.rssKb();
  const s0 = HEAP ? await snapshot(parley.pid, heapDir) : undefined;
  const agent = makeAgent(CONCURRENCY);
  let next = 0;
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < users.length) {
        const u = users[next++]!;
        try {
          const login = await parleyLogin(parley.url, u, password, agent);
          const s = openSse(eventsUrl(login), () => undefined);
          streams.push(s);
          await s.opened;
        } catch (err) {
          if (failed++ === 0) log(`first failure: ${(err as Error).message}`);
        }
        if (++done % 250 === 0) log(`${done}/${users.length} sessions`);
      }
    }),
  );
  const wallMs = performance.now() - t0;
  await sleep(5000); // login-time work (carbons, archive catch-up, presence) trails the answers
  const rss1 = parley.rssKb();
  const ok = users.length - failed;
  // PostgreSQL statements per login (REST login, session start, ready hooks: carbons, catch-up, rooms)
  await quiet(countFile);
  const tally1 = readTally(countFile);
  // includes the 5 s after the logins (their trailing work) and what idle sessions cost meanwhile
  const cpuMsPerLogin = {
    gateway: Math.round(((cpuMs(parley.pid) - cpu0.gateway) / Math.max(1, ok)) * 100) / 100,
    prosody: prosody
      ? Math.round(((cpuMs(prosody) - cpu0.prosody) / Math.max(1, ok)) * 100) / 100
      : undefined,
  };
  log(`CPU ms per login: ${JSON.stringify(cpuMsPerLogin)}`);
  const statementsPerLogin = Object.fromEntries(
    Object.entries(tally1)
      .map(([k, v]) => [k, Math.round(((v - (tally0[k] ?? 0)) / Math.max(1, ok)) * 100) / 100] as const)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1]),
  );
  log(`statements per login: ${JSON.stringify(statementsPerLogin, null, 1)}`);
  const unhandled = parley
    .output()
    .split('\n')
    .filter((l) => l.includes('unhandled rejection')).length;
  if (unhandled) log(`the gateway logged ${unhandled} unhandled rejections`);
  const result: Record<string, unknown> = {
    sessions: ok,
    failed,
    concurrency: CONCURRENCY,
    unhandledRejections: unhandled,
    loginsPerSecond: Math.round((ok * 1000) / wallMs),
    statementsPerLogin,
    cpuMsPerLogin,
    roundTripsPerLogin: Math.round(Object.values(statementsPerLogin).reduce((a, b) => a + b, 0) * 100) / 100,
  };
  if (!s0) {
    Object.assign(result, {
      rssKbPerSession: Math.round(((rss1 - rss0) / ok) * 10) / 10,
      rssMb: { before: Math.round(rss0 / 1024), after: Math.round(rss1 / 1024) },
    });
    log(`${ok} sessions (${failed} failed): RSS ${String(result.rssKbPerSession)} KB/session`);
    agent.destroy();
    return result;
  }
  const s1 = await snapshot(parley.pid, heapDir);
  if (KEEP) {
    await mkdir(KEEP, { recursive: true });
    await Promise.all([
      copyFile(s0, join(KEEP, 'before.heapsnapshot')),
      copyFile(s1, join(KEEP, 'after.heapsnapshot')),
    ]);
  }
  const r = spawnSync(
    process.execPath,
    [
      '--max-old-space-size=8000',
      '--import',
      'tsx',
      join(ROOT, 'bench/tools/heap-by-file.ts'),
      s0,
      s1,
      String(ok),
    ],
    { encoding: 'utf8', cwd: ROOT },
  );
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  await writeFile(join(ROOT, 'bench/results', `${stamp}-cost-${LABEL}.heap.txt`), r.stdout + r.stderr);
  result.heapKbPerSession = Number(/: ([\d.]+) KB per session/.exec(r.stdout)?.[1] ?? NaN);
  log(`${ok} sessions (${failed} failed): live heap ${String(result.heapKbPerSession)} KB/session`);
  log(r.stdout.split('\n').slice(0, 40).join('\n'));
  agent.destroy();
  return result;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(String((err as Error)?.stack ?? err));
    process.exit(1);
  },
);
