import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import ts from 'typescript';
import { freePort } from '../../tools/servers/freePort.js';
import { postgresPid as pgPid, prosodyPid } from '../lib/context.js';
import { userNames, writeProsodyAccounts } from '../lib/accounts.js';
import { makeAgent, openSse, request, type SseStream } from '../lib/http.js';
import { startParleyProcess, type ParleyProcess } from '../lib/parley.js';
import { contextSwitches, cpuMs, treeContextSwitches, treeCpuMs } from '../lib/proc.js';
import { eventsUrl, parleyLogin } from '../load/drivers.js';
import { gatewayEnv, startToolServers } from '../lib/servers.js';

/**
 * What a delivered 1:1 message costs the gateway *under load*, A/B between checkouts in one run (issue 17):
 * gateway CPU (utime + stime from /proc) per delivered message, PostgreSQL round trips per message by
 * statement (pg-count.ts preload) and, with --strace, syscalls per message. Each checkout runs as its own
 * gateway on the same Prosody and PostgreSQL; segments alternate A, B, A, B… so the machine's background
 * load hits both alike. Each pair: A sends REST (open loop at `rate / pairs` msg/s) to B, both hold an SSE
 * stream (B gets the message, A the receipt): REST in, stored, SSE out, receipts on.
 *
 *   node --import tsx bench/tools/gateway-load-cost.ts --root . --root ../perf-base [--rate 150] [--seconds 10]
 *     [--rounds 3] [--pairs 1] [--strace] [--compiled] [--cpu-prof DIR] [--pg-stats] [--label X]
 *
 * --compiled: a root given as `dist:DIR` runs DIR/dist/main.js (npm run build) instead of tsx; node flags after
 *   the directory, in the same argument (`--root 'dist:. --max-semi-space-size=64'`), start that gateway with them;
 *   NAME=VALUE there (`--root 'dist:. PARLEY_GROUP_COMMIT_GATHER_MS=4'`) goes into that gateway's environment.
 * --pg-stats: PostgreSQL's own execution time per statement (pg_stat_statements) and per delivered message, and
 *   how many row updates were HOT, per gateway's database, over the whole run (warm-up included).
 * Writes bench/results/<date>-loadcost-<label>.json.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const roots = argv.flatMap((a, i) => (a === '--root' ? [argv[i + 1]!] : []));
if (!roots.length) roots.push(ROOT);
const RATE = Number(arg('rate', '150'));
const SECONDS = Number(arg('seconds', '10'));
const ROUNDS = Number(arg('rounds', '3'));
const PAIRS = Number(arg('pairs', '1'));
const STRACE = argv.includes('--strace');
const PG_STATS = argv.includes('--pg-stats');
const CPU_PROF = arg('cpu-prof', '');
const LABEL = arg('label', 'ab');
const log = (msg: string): void => {
  process.stderr.write(`[loadcost] ${msg}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Gateway {
  name: string;
  secret: string;
  parley: ParleyProcess;
  countFile: string;
  db: string;
  pairs: Pair[];
  segments: Segment[];
}
interface Pair {
  send(seq: number): Promise<void>;
  waiting: Map<number, () => void>;
  streams: SseStream[];
}
interface Segment {
  delivered: number;
  refused: number;
  cpuUsPerMsg: number;
  prosodyUsPerMsg: number;
  /** the postmaster and its backends: every gateway's database is on it, only the measured one is busy */
  postgresUsPerMsg: number;
  roundTripsPerMsg: number;
  /** context switches per delivered message: how often each process went to sleep and was woken */
  switchesPerMsg: { gateway: number; prosody: number; postgres: number };
  byStatement: Record<string, number>;
  syscallsPerMsg?: Record<string, number>;
}

async function readTally(file: string): Promise<Record<string, number>> {
  // the preload rewrites the file in place: a read can catch it half-written, so read again shortly
  for (let i = 0; ; i++) {
    try {
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>) : {};
    } catch (err) {
      if (i >= 50) throw err;
      await sleep(10);
    }
  }
}

/** Waits until the gateway sent no statement for `ms` (receipts trail the deliveries). */
async function quiet(file: string, ms = 1000): Promise<void> {
  let last = JSON.stringify(await readTally(file));
  let since = Date.now();
  while (Date.now() - since < ms) {
    await sleep(100);
    const now = JSON.stringify(await readTally(file));
    if (now !== last) [last, since] = [now, Date.now()];
  }
}

async function straceCounts(pid: number): Promise<() => Promise<Record<string, number>>> {
  const file = join(tmpdir(), `parley-loadcost-strace-${pid}-${Date.now()}.txt`);
  const child = spawn('strace', ['-f', '-c', '-o', file, '-p', String(pid)], { stdio: 'ignore' });
  await sleep(1000);
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

async function makePair(url: string, tx: string, rx: string, password: string): Promise<Pair> {
  const agent = makeAgent(64);
  const a = await parleyLogin(url, tx, password, agent);
  const b = await parleyLogin(url, rx, password, agent);
  const waiting = new Map<number, () => void>();
  const sa = openSse(eventsUrl(a), () => undefined);
  const sb = openSse(eventsUrl(b), (e) => {
    if (e.name !== 'chatapi.chat') return;
    const p = JSON.parse(e.data) as { direction?: string; body?: string };
    const m = p.direction === 'in' ? /^lc:(\d+)$/.exec(p.body ?? '') : null;
    if (m) waiting.get(Number(m[1]))?.();
  });
  await Promise.all([sa.opened, sb.opened]);
  const to = encodeURIComponent(`${b.jid}/${b.resource}`);
  return {
    waiting,
    streams: [sa, sb],
    async send(seq) {
      const r = await request(agent, 'POST', `${url}/restapi/v1/chat/${a.streamId}/messages/${to}`, {
        headers: { Authorization: `Bearer ${a.token}`, 'Content-Type': 'text/plain; charset=utf-8' },
        body: `lc:${seq}`,
      });
      if (r.status !== 201) throw new Error(`send → ${r.status} ${r.body.slice(0, 200)}`);
    },
  };
}

let nextSeq = 1;
/** Open loop: `rate` msg/s over the pairs for `seconds`; resolves once every message was delivered or failed. */
async function drive(
  pairs: Pair[],
  rate: number,
  seconds: number,
): Promise<{ delivered: number; refused: number }> {
  const n = Math.round(rate * seconds);
  const errors = new Map<string, number>();
  const done: Promise<boolean>[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    const pair = pairs[i % pairs.length]!;
    const seq = nextSeq++;
    const delivered = new Promise<void>((r) => pair.waiting.set(seq, r));
    done.push(
      pair.send(seq).then(
        () =>
          Promise.race([delivered.then(() => true), sleep(20_000).then(() => false)]).finally(() =>
            pair.waiting.delete(seq),
          ),
        (err: unknown) => {
          pair.waiting.delete(seq);
          errors.set(
            String(err)
              .replace(/^.*"detail":/, '')
              .slice(0, 200),
            (errors.get(
              String(err)
                .replace(/^.*"detail":/, '')
                .slice(0, 200),
            ) ?? 0) + 1,
          );
          return false;
        },
      ),
    );
  }
  const results = await Promise.all(done);
  const delivered = results.filter(Boolean).length;
  for (const [e, k] of errors) log(`${k} × ${e}`);
  return { delivered, refused: n - delivered };
}

/** Prosody's process: its CPU per delivered message is read per segment alongside the gateway's. */
let xmppServerPid: number | undefined;
let postgresPid: number | undefined;

/** context switches so far of the gateway, Prosody and PostgreSQL (all their threads and backends) */
const switchesNow = (g: Gateway): number[] => [
  contextSwitches(g.parley.pid),
  xmppServerPid ? contextSwitches(xmppServerPid) : 0,
  postgresPid ? treeContextSwitches(postgresPid) : 0,
];

async function segment(g: Gateway, strace: boolean): Promise<Segment> {
  await quiet(g.countFile, 500);
  const before = await readTally(g.countFile);
  const trace = strace ? await straceCounts(g.parley.pid) : undefined;
  const cpu0 = cpuMs(g.parley.pid);
  const xmpp0 = xmppServerPid ? cpuMs(xmppServerPid) : 0;
  const pg0 = postgresPid ? treeCpuMs(postgresPid) : 0;
  const switches0 = switchesNow(g);
  const watch = process.env.LC_WATCH
    ? setInterval(() => {
        void fetch(`${g.parley.url}/metrics`, { headers: { Authorization: g.secret } })
          .then((r) => r.text())
          .then((t) => log(`unacked ${/^parley_xmpp_unacked_stanzas (\S+)/m.exec(t)?.[1]}`));
      }, 1000)
    : undefined;
  const r = await drive(g.pairs, RATE, SECONDS);
  clearInterval(watch);
  await quiet(g.countFile);
  const cpu = cpuMs(g.parley.pid) - cpu0;
  const xmppCpu = xmppServerPid ? cpuMs(xmppServerPid) - xmpp0 : 0;
  const pgCpu = postgresPid ? treeCpuMs(postgresPid) - pg0 : 0;
  const switches = switchesNow(g).map((n, i) => n - switches0[i]!);
  const sys = trace && (await trace());
  const after = await readTally(g.countFile);
  const byStatement: Record<string, number> = {};
  let total = 0;
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) {
      byStatement[k] = Math.round((d / r.delivered) * 100) / 100;
      total += d;
    }
  }
  const per = (x: number): number => Math.round((x / Math.max(1, r.delivered)) * 100) / 100;
  return {
    ...r,
    cpuUsPerMsg: Math.round((cpu * 1000) / Math.max(1, r.delivered)),
    // Prosody serves every gateway of the run, but only the measured segment's gateway is sending.
    prosodyUsPerMsg: Math.round((xmppCpu * 1000) / Math.max(1, r.delivered)),
    postgresUsPerMsg: Math.round((pgCpu * 1000) / Math.max(1, r.delivered)),
    roundTripsPerMsg: per(total),
    switchesPerMsg: { gateway: per(switches[0]!), prosody: per(switches[1]!), postgres: per(switches[2]!) },
    byStatement,
    ...(sys
      ? {
          syscallsPerMsg: Object.fromEntries(
            Object.entries(sys)
              .map(([k, v]) => [k, per(v)] as const)
              .filter(([, v]) => v >= 0.1)
              .sort((a, b) => b[1] - a[1]),
          ),
        }
      : {}),
  };
}

/** bench/tools/pg-count.ts transpiled next to the checkout's node_modules (so `pg` resolves to its copy). */
async function pgCountPreload(root: string): Promise<string> {
  const source = readFileSync(join(ROOT, 'bench/tools/pg-count.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const dir = join(root, 'node_modules/.cache');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'parley-pg-count.mjs');
  await writeFile(file, outputText);
  return file;
}

/** --pg-stats: where PostgreSQL spent its execution time, per gateway's database. */
async function pgStats(
  postgres: { url: string; adminUrl(db: string): string },
  gateways: Gateway[],
): Promise<Record<string, unknown>> {
  const c = new pg.Client({ connectionString: postgres.url });
  await c.connect();
  try {
    const result: Record<string, unknown> = {};
    for (const g of gateways) {
      const delivered = g.segments.reduce((n, s) => n + s.delivered, 0);
      const { rows } = await c.query<{ query: string; calls: string; ms: number; rows: string }>(
        `SELECT left(regexp_replace(s.query, '\\s+', ' ', 'g'), 90) AS query, s.calls, s.total_exec_time AS ms, s.rows
           FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
          WHERE d.datname = $1 ORDER BY s.total_exec_time DESC LIMIT 8`,
        [g.db],
      );
      const tables = new pg.Client({ connectionString: postgres.adminUrl(g.db) });
      await tables.connect();
      const t = await tables
        .query<{ relname: string; ins: string; upd: string; hot: string }>(
          `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables
            WHERE relname IN ('messages', 'events')`,
        )
        .finally(() => tables.end());
      const statements = rows.map((r) => ({
        query: r.query,
        calls: Number(r.calls),
        rows: Number(r.rows),
        usPerMsg: Math.round((r.ms * 1000) / Math.max(1, delivered)),
      }));
      result[g.name] = { delivered, statements, tables: t.rows };
      log(`${g.name} PostgreSQL execution per delivered message (${delivered}):`);
      for (const st of statements)
        log(`  ${st.usPerMsg} µs  ${st.calls} calls  ${st.rows} rows  ${st.query}`);
      for (const r of t.rows) log(`  ${r.relname}: ${r.ins} inserted, ${r.upd} updated (${r.hot} HOT)`);
    }
    return result;
  } finally {
    await c.end();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

async function main(): Promise<void> {
  const servers = await startToolServers('loadcost', { statStatements: PG_STATS });
  const { tmp, prosody, postgres, password } = servers;
  xmppServerPid = prosodyPid(prosody);
  postgresPid = pgPid(postgres);
  const users = userNames('lc', roots.length * PAIRS * 2);
  await writeProsodyAccounts(join(prosody.dir, 'data'), prosody.domain, users, password);
  const gateways: Gateway[] = [];
  try {
    for (const [i, spec] of roots.entries()) {
      // `[dist:]DIR[ NODE-FLAG…][ NAME=VALUE…]`: flags after the directory start that gateway's node with them,
      // settings go into its environment (an A/B of V8 or Parley settings on one checkout)
      const [dir, ...extra] = spec.split(' ').filter(Boolean);
      const flags = extra.filter((a) => a.startsWith('-'));
      const settings = Object.fromEntries(
        extra
          .filter((a) => !a.startsWith('-'))
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      const compiled = dir!.startsWith('dist:');
      const root = resolve(compiled ? dir!.slice(5) : dir!);
      const countFile = join(tmp, `pg-count-${i}.json`);
      const name = `${i}:${compiled ? 'dist:' : ''}${root}${extra.length ? ` ${extra.join(' ')}` : ''}`;
      if (CPU_PROF) await mkdir(CPU_PROF, { recursive: true });
      const env = await gatewayEnv(servers, `lc${i}`);
      const secret = env.PARLEY_SECRET!;
      const parley = await startParleyProcess({
        label: `lc${i}`,
        port: await freePort(),
        root,
        entry: compiled ? 'dist/main.js' : undefined,
        cpuProfDir: CPU_PROF || undefined,
        // pg-count as JavaScript inside the checkout: it must patch the `pg` that checkout's gateway loads, and a
        // compiled gateway runs without tsx
        nodeArgs: ['--import', await pgCountPreload(root), ...flags],
        env: { ...env, ...settings, PARLEY_BENCH_PGCOUNT: countFile },
      });
      const pairs: Pair[] = [];
      for (let p = 0; p < PAIRS; p++) {
        const base = (i * PAIRS + p) * 2;
        pairs.push(await makePair(parley.url, users[base]!, users[base + 1]!, password));
      }
      gateways.push({ name, secret, parley, countFile, db: `lc${i}`, pairs, segments: [] });
      await drive(pairs, Math.min(RATE, 100), 2); // warm-up (JIT, prepared statements, pool)
      log(`gateway ${name} ready (pid ${parley.pid})`);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const g of gateways) {
        const s = await segment(g, false);
        g.segments.push(s);
        log(
          `round ${round + 1} ${g.name}: ${s.cpuUsPerMsg} µs CPU/msg (Prosody ${s.prosodyUsPerMsg}, PostgreSQL ${s.postgresUsPerMsg}), ${s.roundTripsPerMsg} round trips/msg, switches/msg ${s.switchesPerMsg.gateway} · ${s.switchesPerMsg.prosody} · ${s.switchesPerMsg.postgres}, ${s.delivered} delivered, ${s.refused} refused`,
        );
      }
    }
    const out: Record<string, unknown> = {
      label: LABEL,
      date: new Date().toISOString(),
      rate: RATE,
      seconds: SECONDS,
      pairs: PAIRS,
      load: readFileSync('/proc/loadavg', 'utf8').trim(),
      gateways: [] as unknown[],
    };
    for (const g of gateways) {
      const strace = STRACE ? await segment(g, true) : undefined;
      if (strace) log(`${g.name} syscalls/msg: ${JSON.stringify(strace.syscallsPerMsg)}`);
      const summary = {
        name: g.name,
        cpuUsPerMsgMedian: median(g.segments.map((s) => s.cpuUsPerMsg)),
        cpuUsPerMsg: g.segments.map((s) => s.cpuUsPerMsg),
        prosodyUsPerMsgMedian: median(g.segments.map((s) => s.prosodyUsPerMsg)),
        postgresUsPerMsgMedian: median(g.segments.map((s) => s.postgresUsPerMsg)),
        roundTripsPerMsg: median(g.segments.map((s) => s.roundTripsPerMsg)),
        rssMb: Math.round(g.parley.rssKb() / 102.4) / 10,
        byStatement: g.segments.at(-1)?.byStatement,
        ...(strace ? { syscallsPerMsg: strace.syscallsPerMsg } : {}),
      };
      (out.gateways as unknown[]).push(summary);
      log(
        `${g.name}: RSS ${summary.rssMb} MB, median ${summary.cpuUsPerMsgMedian} µs/msg (Prosody ${summary.prosodyUsPerMsgMedian}, PostgreSQL ${summary.postgresUsPerMsgMedian}) ${JSON.stringify(summary.cpuUsPerMsg)}, ${summary.roundTripsPerMsg} round trips/msg ${JSON.stringify(summary.byStatement)}`,
      );
    }
    if (PG_STATS) out.pgStats = await pgStats(postgres, gateways);
    const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
    const file = join(ROOT, 'bench/results', `${stamp}-loadcost-${LABEL}.json`);
    await writeFile(file, JSON.stringify(out, null, 2) + '\n');
    log(`wrote ${file}`);
  } finally {
    for (const g of gateways) for (const p of g.pairs) for (const s of p.streams) s.close();
    for (const g of gateways) await g.parley.stop();
    await Promise.allSettled([prosody.stop(), postgres.stop()]);
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(String((err as Error)?.stack ?? err));
    process.exit(1);
  },
);
