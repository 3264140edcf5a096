import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort } from '../../tools/servers/freePort.js';
import { userNames, writeProsodyAccounts } from '../lib/accounts.js';
import { startParleyProcess, type ParleyProcess } from '../lib/parley.js';
import { parleyDriver, type Driver } from '../load/drivers.js';
import { runStep, type StepResult } from '../load/rate.js';
import { gatewayEnv, startToolServers } from '../lib/servers.js';
import { cpuMs, treeCpuMs } from '../lib/proc.js';
import { postgresPid, prosodyPid } from '../lib/context.js';

/**
 * The backpressure knee (bench/scenarios/knee.ts) A/B between checkouts in one run: one gateway per
 * checkout (compiled: `npm run build` in each first) on one Prosody and PostgreSQL, one REST → SSE pair
 * each, and open-loop steps at each rate offered to A, B, A, B… (`--rounds`), every message offered (no
 * backlog stop), so the machine's background load hits both alike. Prints accepted, refused and delivered
 * per second and the delivered messages' p50 / p99 per checkout and rate (medians over the rounds).
 *
 *   node --import tsx bench/tools/knee-ab.ts --root /work/A --root . [--rates 560,840,1120] [--rounds 3]
 *
 * A root may name settings for its gateway after the directory (`--root '. PARLEY_SEND_TARGET_MS=0'`), so one
 * checkout can be compared with itself under other settings.
 */

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const roots = argv.flatMap((a, i) => (a === '--root' ? [argv[i + 1]!] : []));
/** a root's directory and the settings named after it */
const rootOf = (spec: string) => {
  const [dir, ...settings] = spec.trim().split(/\s+/);
  return {
    dir: resolve(dir!),
    env: Object.fromEntries(
      settings.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ),
  };
};
const RATES = arg('rates', '560,840,1120').split(',').map(Number);
const ROUNDS = Number(arg('rounds', '3'));
const STEP_MS = 5000;
const log = (m: string): void => void process.stderr.write(`[knee-ab] ${m}\n`);
const ownCpuMs = (): number => cpuMs(process.pid);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

const servers = await startToolServers('knee-ab');
const { prosody, postgres, password } = servers;
const users = userNames('ka', roots.length * 2);
await writeProsodyAccounts(join(prosody.dir, 'data'), prosody.domain, users, password);
const gateways: { root: string; parley: ParleyProcess; driver: Driver; steps: Map<number, StepResult[]> }[] =
  [];
try {
  for (const [i, root] of roots.entries()) {
    const parley = await startParleyProcess({
      label: `ka${i}`,
      port: await freePort(),
      root: rootOf(root).dir,
      entry: 'dist/main.js',
      env: {
        ...(await gatewayEnv(servers, `ka${i}`)),
        PARLEY_SESSION_RESTORE: 'false',
        PARLEY_LOG_LEVEL: 'warn',
        ...rootOf(root).env,
      },
    });
    const driver = await parleyDriver({
      tag: `k${i}`,
      url: parley.url,
      domain: prosody.domain,
      tx: { username: users[2 * i]!, password },
      rx: { via: 'parley', username: users[2 * i + 1]!, password },
    });
    await runStep(driver, { rate: 100, durationMs: 2000, drainMs: 1000 }); // warm-up
    gateways.push({ root, parley, driver, steps: new Map() });
    log(`${root}: ready`);
  }
  for (let round = 0; round < ROUNDS; round++)
    for (const rate of RATES)
      for (const g of gateways) {
        await new Promise((r) => setTimeout(r, 2000)); // the previous step's backlog settles
        const maxInFlight = Math.ceil((rate * STEP_MS) / 1000) + 1;
        // % of a core over the step and its drain: the gateway, Prosody, PostgreSQL, this load generator
        const pids = [g.parley.pid, prosodyPid(prosody), postgresPid(postgres)];
        const sample = () => [...pids.map((p) => (p ? treeCpuMs(p) : 0)), ownCpuMs()];
        const cpu0 = sample();
        const t0 = performance.now();
        const s = await runStep(g.driver, { rate, durationMs: STEP_MS, drainMs: 5000, maxInFlight });
        const wall = performance.now() - t0;
        const cpu = sample().map((c, i) => Math.round((100 * (c - cpu0[i]!)) / wall));
        g.steps.set(rate, [...(g.steps.get(rate) ?? []), s]);
        log(
          `round ${round + 1} ${g.root} @ ${rate}/s: accepted ${s.acceptedRate}/s refused ${s.refusedRate}/s delivered ${s.deliveredRate}/s p50 ${s.latency.p50} p99 ${s.latency.p99} ms, ack p50 ${s.ack.p50} p99 ${s.ack.p99}, lost ${s.lost}; CPU % gateway ${cpu[0]} Prosody ${cpu[1]} postgres ${cpu[2]} load generator ${cpu[3]}`,
        );
      }
  console.log(
    '| checkout | offered msg/s | accepted /s | refused /s | delivered /s | p50 ms | p99 ms (each round) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const g of gateways)
    for (const rate of RATES) {
      const ss = g.steps.get(rate) ?? [];
      const m = (f: (s: StepResult) => number): number => Math.round(median(ss.map(f)));
      console.log(
        `| ${g.root} | ${rate} | ${m((s) => s.acceptedRate)} | ${m((s) => s.refusedRate)} | ${m((s) => s.deliveredRate)} | ${m((s) => s.latency.p50)} | ${m((s) => s.latency.p99)} (${ss.map((s) => Math.round(s.latency.p99)).join(', ')}) |`,
      );
    }
} finally {
  for (const g of gateways) {
    await g.driver.close().catch(() => undefined);
    await g.parley.stop();
  }
  await prosody.stop();
  await postgres.stop();
  await rm(servers.tmp, { recursive: true, force: true });
}
process.exit(0);
