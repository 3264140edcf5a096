import {
  meter,
  overBudget,
  perMessage,
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
 * delivered rate keeps up with the offered rate (≥ 95 %), and p99 < 100 ms.
 */

export const P99_LIMIT_MS = 100;

export interface CurveStep extends StepResult {
  sustained: boolean;
  why?: string;
  cpuMs: Record<string, number>;
  cpuUsPerMsg: Record<string, number>;
  machineBusyPct: number;
  othersPct: number;
}
export interface Curve {
  system: string;
  server: 'prosody' | 'ejabberd';
  path: string;
  probe: { rate: number; delivered: number; errors: number };
  steps: CurveStep[];
  /** highest sustained offered rate (msg/s), 0 when even the lowest step failed */
  sustained: number;
  maxDelivered: number;
  note?: string;
}

function judge(r: StepResult): { sustained: boolean; why?: string } {
  if (r.aborted) return { sustained: false, why: `backlog: ${r.aborted}` };
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

export async function curve(
  ctx: Ctx,
  system: {
    name: string;
    server: 'prosody' | 'ejabberd';
    path: string;
    driverId: string;
    pids: (number | undefined)[];
  },
  windows?: Window[],
): Promise<Curve> {
  const m = meter(ctx, system.server);
  const { stepMs, drainMs } = ctx.opts;
  await ctx.gen.call('step', { id: system.driverId, spec: { rate: 100, durationMs: 800, drainMs: 1000 } }); // warm-up
  await waitIdle(system.pids, 3000);
  const p = await ctx.gen.call<{ rate: number; delivered: number; errors: number }>('probe', {
    id: system.driverId,
    window: 64,
    durationMs: ctx.opts.quick ? 1000 : 3000,
  });
  progress(`${system.name}: closed-loop probe ${p.rate} msg/s${p.errors ? ` (${p.errors} errors)` : ''}`);
  const out: Curve = {
    system: system.name,
    server: system.server,
    path: system.path,
    probe: p,
    steps: [],
    sustained: 0,
    maxDelivered: 0,
  };
  const rates = [...new Set(ctx.opts.fractions.map((f) => nice(Math.max(20, p.rate) * f)))];
  let failures = 0;
  let bisections = ctx.opts.quick ? 1 : 2;
  let lastGood = 0;
  for (let i = 0; i < rates.length; i++) {
    const rate = rates[i]!;
    if (overBudget(ctx, 10)) {
      out.note = 'stopped early: time budget';
      break;
    }
    await waitIdle(system.pids, 8000);
    m.begin();
    const w = windowStart();
    const r = await ctx.gen.call<StepResult>(
      'step',
      { id: system.driverId, spec: { rate, durationMs: stepMs, drainMs, keepCdf: false } },
      stepMs + drainMs + 60_000,
    );
    windows?.push(windowEnd(w));
    const { cpuMs, machineBusyPct, othersPct } = m.end();
    const verdict = judge(r);
    out.steps.push({
      ...r,
      ...verdict,
      cpuMs,
      cpuUsPerMsg: perMessage(cpuMs, r.delivered),
      machineBusyPct,
      othersPct,
    });
    out.maxDelivered = Math.max(out.maxDelivered, r.deliveredRate);
    progress(
      `${system.name} @ ${rate}/s: delivered ${r.deliveredRate}/s p50 ${r.latency.p50} p99 ${r.latency.p99} ms ${verdict.sustained ? 'ok' : `NOT sustained: ${verdict.why}`}`,
    );
    if (verdict.sustained) {
      out.sustained = Math.max(out.sustained, rate);
      lastGood = rate;
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
  out.steps.sort((a, b) => a.rate - b.rate);
  await waitIdle(system.pids, 10_000);
  return out;
}

export async function prosodyThroughput(
  ctx: Ctx,
  users: { raw: [string, string]; parley: [string, string]; parleyXmpp?: [string, string] },
  windows: Window[],
): Promise<Curve[]> {
  const { prosody } = ctx;
  const acct = (username: string) => ({
    service: prosody.service,
    domain: prosody.domain,
    username,
    password: ctx.password,
  });
  const pids = [ctx.parley.pid, prosodyPid(prosody), postgresPid(ctx.postgres)];
  const curves: Curve[] = [];
  await ctx.gen.call('driver', {
    id: 'tp-raw',
    kind: 'raw-xmpp',
    config: { tag: 'tr', tx: acct(users.raw[0]), rx: acct(users.raw[1]) },
  });
  curves.push(
    await curve(ctx, {
      name: 'raw XMPP',
      server: 'prosody',
      path: 'client → Prosody → client',
      driverId: 'tp-raw',
      pids,
    }),
  );
  await ctx.gen.call('closeDriver', { id: 'tp-raw' });
  await ctx.gen.call('driver', {
    id: 'tp-parley',
    kind: 'parley',
    config: {
      tag: 'tq',
      url: ctx.parley.url,
      domain: prosody.domain,
      tx: { username: users.parley[0], password: ctx.password },
      rx: { via: 'parley', username: users.parley[1], password: ctx.password },
    },
  });
  curves.push(
    await curve(
      ctx,
      {
        name: 'Parley',
        server: 'prosody',
        path: 'REST → store → Prosody → store → SSE',
        driverId: 'tp-parley',
        pids,
      },
      windows,
    ),
  );
  await ctx.gen.call('closeDriver', { id: 'tp-parley' });
  if (users.parleyXmpp && !overBudget(ctx, 40)) {
    await ctx.gen.call('driver', {
      id: 'tp-px',
      kind: 'parley',
      config: {
        tag: 'tx',
        url: ctx.parley.url,
        domain: prosody.domain,
        tx: { username: users.parleyXmpp[0], password: ctx.password },
        rx: { via: 'xmpp', account: acct(users.parleyXmpp[1]) },
      },
    });
    curves.push(
      await curve(
        ctx,
        {
          name: 'Parley → XMPP client',
          server: 'prosody',
          path: 'REST → store → Prosody → client',
          driverId: 'tp-px',
          pids,
        },
        windows,
      ),
    );
    await ctx.gen.call('closeDriver', { id: 'tp-px' });
  }
  return curves;
}

export function ratio(a: number, b: number): number {
  return b > 0 ? round(a / b, 2) : NaN;
}
