import {
  meter,
  overBudget,
  pgStatements,
  PARLEY_DB,
  perMessage,
  reviveGen,
  waitIdle,
  prosodyPid,
  postgresPid,
  type Ctx,
} from '../lib/context.js';
import { progress } from '../lib/progress.js';
import { round } from '../lib/stats.js';
import type { StepResult } from '../load/rate.js';
import { windowEnd, windowStart, type Window } from '../lib/cpuprofile.js';

/**
 * The highest sustained rate with p99 < 100 ms, per system. A closed-loop probe (64 in flight)
 * estimates the ceiling R; open-loop steps at fractions of R then draw the curve, stopping after the
 * first step that is not sustained. A step is sustained when nothing is lost or refused, the
 * delivered rate keeps up (≥ 95 %), p99 < 100 ms, and the load generator itself kept up (it issued
 * ≥ 95 % of the offered rate and survived without errors). A system that fails (its driver cannot
 * connect, the generator dies) gives a curve with `failed` set; the others still run.
 */

export const P99_LIMIT_MS = 100;
/** the raw baseline is the server's limit only while the load generator stays below this (% of a core) */
export const LOADGEN_LIMIT_PCT = 50;

export interface CurveStep extends StepResult {
  sustained: boolean;
  why?: string;
  cpuMs: Record<string, number>;
  cpuUsPerMsg: Record<string, number>;
  /** CPU of the load-generator process during the step, % of one core */
  loadgenCorePct: number;
  machineBusyPct: number;
  othersPct: number;
  /** statements PostgreSQL executed for the gateway's database per delivered message (pg_stat_statements) */
  pgStatementsPerMsg?: number;
  /** context switches per delivered message of each process tree (how often it slept and was woken) */
  switchesPerMsg?: Record<string, number>;
}
export interface Curve {
  system: string;
  server: 'prosody' | 'ejabberd';
  path: string;
  /** the load driver (e.g. @xmpp/client, lean socket, HTTP) */
  driver?: string;
  probe: { rate: number; delivered: number; errors: number };
  steps: CurveStep[];
  /** highest sustained offered rate (msg/s), 0 when even the lowest step failed */
  sustained: number;
  maxDelivered: number;
  /** load generator's CPU (% of a core) at the step that delivered most: the ceiling */
  loadgenCorePctAtCeiling?: number;
  note?: string;
  /** set when the system could not be measured (or stopped part-way): why */
  failed?: string;
}

function judge(r: StepResult): { sustained: boolean; why?: string } {
  if (r.incidents?.count)
    return {
      sustained: false,
      why: `load generator survived ${r.incidents.count} errors (${r.incidents.last ?? ''})`,
    };
  if (r.aborted) return { sustained: false, why: `overloaded, backlog: ${r.aborted}` };
  if (r.refused > 0)
    return {
      sustained: false,
      why: `backpressure: ${r.refused} refused with 429/503 (${r.firstError ?? ''})`,
    };
  if (r.offeredRate < 0.95 * r.rate)
    return { sustained: false, why: `load generator fell behind: issued ${r.offeredRate}/s of ${r.rate}/s` };
  if (r.sendErrors > 0)
    return { sustained: false, why: `${r.sendErrors} send errors (${r.firstError ?? ''})` };
  if (r.lost > 0) return { sustained: false, why: `${r.lost} not delivered within the drain time` };
  if (r.latency.p99 >= P99_LIMIT_MS)
    return { sustained: false, why: `p99 ${r.latency.p99} ms ≥ ${P99_LIMIT_MS} ms` };
  if (r.deliveredRate < 0.95 * r.rate)
    return { sustained: false, why: `delivered ${r.deliveredRate}/s < 95 % of ${r.rate}/s` };
  return { sustained: true };
}

/** 2 significant digits: steps read as 250, 500, 1100 … */
const nice = (x: number): number => {
  if (x < 10) return Math.max(1, Math.round(x));
  const p = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Math.round(x / p) * p;
};

const firstLine = (err: unknown): string =>
  String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .slice(0, 500);

export async function curve(
  ctx: Ctx,
  system: {
    name: string;
    server: 'prosody' | 'ejabberd';
    path: string;
    driverId: string;
    driver?: string;
    pids: (number | undefined)[];
    /** offer exactly these rates (a peer measured at another system's rates) instead of probing fractions */
    rates?: number[];
    /** outstanding messages at which a step stops sending (rate.ts's default when unset) */
    maxInFlight?: (rate: number) => number;
    /** how long a step waits for late deliveries (default: the run's drain time) */
    drainMs?: number;
    /** how long each step offers load (default: the run's step length) */
    stepMs?: number;
    /**
     * Replaces the driver: a step that overran the server can leave its connection closed (ejabberd
     * answers a flood with policy-violation), and every later step would then measure only errors.
     */
    recreate?: () => Promise<void>;
  },
  windows?: Window[],
): Promise<Curve> {
  const m = meter(ctx, system.server);
  const stepMs = system.stepMs ?? ctx.opts.stepMs;
  const drainMs = system.drainMs ?? ctx.opts.drainMs;
  const out: Curve = {
    system: system.name,
    server: system.server,
    path: system.path,
    ...(system.driver ? { driver: system.driver } : {}),
    probe: { rate: 0, delivered: 0, errors: 0 },
    steps: [],
    sustained: 0,
    maxDelivered: 0,
  };
  try {
    await ctx.gen.call('step', {
      id: system.driverId,
      spec: { rate: 100, durationMs: 800, drainMs: 1000 },
    }); // warm-up
    await waitIdle(system.pids, 3000);
    out.probe = await ctx.gen.call<{ rate: number; delivered: number; errors: number }>('probe', {
      id: system.driverId,
      window: 64,
      durationMs: ctx.opts.quick ? 1000 : 3000,
    });
  } catch (err) {
    out.failed = `warm-up/probe failed: ${firstLine(err)}`;
    progress(`${system.name}: ${out.failed}`);
    return out;
  }
  const p = out.probe;
  progress(`${system.name}: closed-loop probe ${p.rate} msg/s${p.errors ? ` (${p.errors} errors)` : ''}`);
  const rates = system.rates?.length
    ? [...system.rates]
    : [...new Set(ctx.opts.fractions.map((f) => nice(Math.max(20, p.rate) * f)))];
  let failures = 0;
  let bisections = system.rates ? 0 : ctx.opts.quick ? 1 : 2;
  let lastGood = 0;
  let extensions = 6;
  for (let i = 0; i < rates.length; i++) {
    const rate = rates[i]!;
    if (overBudget(ctx, 10)) {
      out.note = 'stopped early: time budget';
      break;
    }
    await waitIdle(system.pids, 8000);
    const statementsBefore = await pgStatements(ctx, PARLEY_DB[system.server]);
    m.begin();
    const w = windowStart();
    let r: StepResult;
    try {
      r = await ctx.gen.call<StepResult>(
        'step',
        {
          id: system.driverId,
          spec: {
            rate,
            durationMs: stepMs,
            drainMs,
            keepCdf: false,
            ...(system.maxInFlight ? { maxInFlight: system.maxInFlight(rate) } : {}),
          },
        },
        stepMs + drainMs + 60_000,
      );
    } catch (err) {
      // the generator died or hung at this rate: that is the finding, not the end of the run
      out.failed = `step at ${rate}/s: ${firstLine(err)}`;
      progress(`${system.name} @ ${rate}/s FAILED: ${out.failed}`);
      m.end();
      break;
    }
    windows?.push(windowEnd(w));
    const { cpuMs, switches, wallMs, machineBusyPct, othersPct } = m.end();
    const statementsAfter = await pgStatements(ctx, PARLEY_DB[system.server]);
    const verdict = judge(r);
    const loadgenCorePct = Math.round(((cpuMs.loadgen ?? 0) / Math.max(1, wallMs)) * 100);
    out.steps.push({
      ...r,
      ...verdict,
      cpuMs,
      cpuUsPerMsg: perMessage(cpuMs, r.delivered),
      switchesPerMsg: Object.fromEntries(
        Object.entries(switches).map(([k, v]) => [k, round(v / Math.max(1, r.delivered), 2)]),
      ),
      loadgenCorePct,
      machineBusyPct,
      othersPct,
      ...(statementsBefore !== undefined && statementsAfter !== undefined && r.delivered > 0
        ? { pgStatementsPerMsg: round((statementsAfter - statementsBefore) / r.delivered, 2) }
        : {}),
    });
    out.maxDelivered = Math.max(out.maxDelivered, r.deliveredRate);
    progress(
      `${system.name} @ ${rate}/s: delivered ${r.deliveredRate}/s p50 ${r.latency.p50} p99 ${r.latency.p99} ms, load generator ${loadgenCorePct} % of a core: ${verdict.sustained ? 'ok' : `NOT sustained: ${verdict.why}`}`,
    );
    // Send errors, not an overrun alone: replacing a Parley driver means new logins in the measured run.
    if (r.sendErrors > 0 && system.recreate && i + 1 < rates.length) {
      try {
        await system.recreate();
        progress(`${system.name}: driver replaced after ${r.sendErrors} send errors at ${rate}/s`);
      } catch (err) {
        out.failed = `driver could not be replaced after the ${rate}/s step: ${firstLine(err)}`;
        progress(`${system.name}: ${out.failed}`);
        break;
      }
    }
    if (system.rates) continue; // a peer row: every rate the other system was offered
    if (verdict.sustained) {
      out.sustained = Math.max(out.sustained, rate);
      lastGood = rate;
      // The probe only places the steps: a system whose backpressure refuses a closed loop of 64 in
      // flight (Parley's transit bound) probes low, so the curve climbs on while its top step holds.
      if (i === rates.length - 1 && extensions-- > 0) rates.push(nice(rate * 1.25));
      continue;
    }
    // Between the last good step and this one, try the middle (the steps are coarse, ×1.2–2 apart).
    const mid = nice((lastGood + rate) / 2);
    if (bisections > 0 && lastGood > 0 && rate / lastGood > 1.15 && mid > lastGood && mid < rate) {
      bisections--;
      rates.splice(i + 1, rates.length, mid, ...(ctx.opts.quick ? [] : [nice((mid + rate) / 2)]));
      continue;
    }
    if (++failures >= (ctx.opts.quick ? 1 : 2)) break;
  }
  if (system.rates) out.sustained = Math.max(0, ...out.steps.filter((s) => s.sustained).map((s) => s.rate));
  out.steps.sort((a, b) => a.rate - b.rate);
  const top = [...out.steps].sort((a, b) => b.deliveredRate - a.deliveredRate)[0];
  if (top) out.loadgenCorePctAtCeiling = top.loadgenCorePct;
  await waitIdle(system.pids, 10_000);
  return out;
}

/**
 * One system's curve with a driver of its own: the driver is created in the load generator, measured
 * and closed; any failure (driver cannot log in, generator dies) becomes the curve's `failed` and a
 * dead generator is replaced, so the next system still runs.
 */
export async function measure(
  ctx: Ctx,
  driver: { id: string; kind: string; config: unknown },
  system: Omit<Parameters<typeof curve>[1], 'driverId'>,
  windows?: Window[],
): Promise<Curve> {
  let c: Curve;
  try {
    await ctx.gen.call('driver', driver, 60_000);
    const recreate = async () => {
      await ctx.gen.call('closeDriver', { id: driver.id }, 15_000).catch(() => undefined);
      await reviveGen(ctx, `throughput, ${system.name} on ${system.server}`);
      await ctx.gen.call('driver', driver, 60_000);
    };
    c = await curve(ctx, { recreate, ...system, driverId: driver.id }, windows);
  } catch (err) {
    c = {
      system: system.name,
      server: system.server,
      path: system.path,
      ...(system.driver ? { driver: system.driver } : {}),
      probe: { rate: 0, delivered: 0, errors: 0 },
      steps: [],
      sustained: 0,
      maxDelivered: 0,
      failed: `driver: ${firstLine(err)}`,
    };
    progress(`${system.name}: ${c.failed}`);
  }
  if (c.failed) ctx.findings.push(`throughput, ${system.name} on ${system.server}: ${c.failed}`);
  await ctx.gen.call('closeDriver', { id: driver.id }, 15_000).catch(() => undefined);
  await reviveGen(ctx, `throughput, ${system.name} on ${system.server}`);
  return c;
}

/**
 * Where the @xmpp/client raw driver may have been the limit (> 50 % of a core at its ceiling, or a step
 * where it fell behind or hit errors), the lean driver measures the server.
 */
export function needsLeanRaw(ctx: Ctx, raw: Curve): boolean {
  return (
    ctx.opts.leanRaw ||
    !!raw.failed ||
    (raw.loadgenCorePctAtCeiling ?? 0) > LOADGEN_LIMIT_PCT ||
    raw.steps.some((s) => s.why?.startsWith('load generator'))
  );
}

/** The raw baseline of a server: the best raw curve (the lean driver's when it ran) that delivered. */
export function rawBaseline(curves: Curve[] | undefined, server: string): Curve | undefined {
  return curves
    ?.filter(
      (c) =>
        c.server === server &&
        c.system.startsWith('raw XMPP') &&
        !c.failed &&
        c.steps.some((s) => s.delivered > 0),
    )
    .sort((a, b) => b.sustained - a.sustained)[0];
}

export async function prosodyThroughput(
  ctx: Ctx,
  users: {
    raw: [string, string];
    parley: [string, string];
    parleyXmpp?: [string, string];
    modRest?: [string, string];
  },
  windows: Window[],
  curves: Curve[],
): Promise<Curve[]> {
  const { prosody } = ctx;
  const acct = (username: string) => ({
    service: prosody.service,
    domain: prosody.domain,
    username,
    password: ctx.password,
  });
  const pids = [ctx.parley.pid, prosodyPid(prosody), postgresPid(ctx.postgres)];
  const raw = await measure(
    ctx,
    { id: 'tp-raw', kind: 'raw-xmpp', config: { tag: 'tr', tx: acct(users.raw[0]), rx: acct(users.raw[1]) } },
    {
      name: 'raw XMPP',
      server: 'prosody',
      path: 'client → Prosody → client',
      driver: '@xmpp/client',
      pids,
    },
  );
  curves.push(raw);
  if (needsLeanRaw(ctx, raw)) {
    progress(
      `the @xmpp/client driver used ${raw.loadgenCorePctAtCeiling ?? '?'} % of a core at its ceiling: measuring with the lean driver`,
    );
    curves.push(
      await measure(
        ctx,
        {
          id: 'tp-lean',
          kind: 'lean-xmpp',
          config: { tag: 'tl', tx: acct(users.raw[0]), rx: acct(users.raw[1]) },
        },
        {
          name: 'raw XMPP (lean driver)',
          server: 'prosody',
          path: 'client → Prosody → client',
          driver: 'lean socket (pre-serialized, no DOM)',
          pids,
        },
      ),
    );
  }
  const parley = await measure(
    ctx,
    {
      id: 'tp-parley',
      kind: 'parley',
      config: {
        tag: 'tq',
        url: ctx.parley.url,
        domain: prosody.domain,
        tx: { username: users.parley[0], password: ctx.password },
        rx: { via: 'parley', username: users.parley[1], password: ctx.password },
      },
    },
    {
      name: 'Parley',
      server: 'prosody',
      path: 'REST → store → Prosody → store → SSE',
      driver: 'HTTP + SSE',
      pids,
    },
    windows,
  );
  curves.push(parley);
  if (users.modRest && ctx.opts.modrest) {
    // the peer at the rates Parley was offered (or the usual probe when Parley's curve failed)
    const rates = parley.steps.map((s) => s.rate);
    curves.push(
      await measure(
        ctx,
        {
          id: 'tp-modrest',
          kind: 'mod_rest',
          config: {
            tag: 'tm',
            restUrl: `http://127.0.0.1:${prosody.httpPort}/rest`,
            from: { username: users.modRest[0], password: ctx.password },
            rx: acct(users.modRest[1]),
          },
        },
        {
          name: 'mod_rest',
          server: 'prosody',
          path: 'HTTP POST /rest → Prosody → client',
          driver: 'HTTP',
          pids,
          ...(rates.length ? { rates } : {}),
        },
      ),
    );
  }
  if (users.parleyXmpp && !overBudget(ctx, 40)) {
    curves.push(
      await measure(
        ctx,
        {
          id: 'tp-px',
          kind: 'parley',
          config: {
            tag: 'tx',
            url: ctx.parley.url,
            domain: prosody.domain,
            tx: { username: users.parleyXmpp[0], password: ctx.password },
            rx: { via: 'xmpp', account: acct(users.parleyXmpp[1]) },
          },
        },
        {
          name: 'Parley → XMPP client',
          server: 'prosody',
          path: 'REST → store → Prosody → client',
          driver: 'HTTP + @xmpp/client',
          pids,
        },
        windows,
      ),
    );
  }
  return curves;
}

export function ratio(a: number, b: number): number {
  return b > 0 ? round(a / b, 2) : NaN;
}
