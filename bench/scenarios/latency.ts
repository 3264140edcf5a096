import { meter, perMessage, reviveGen, waitIdle, prosodyPid, postgresPid, type Ctx } from '../lib/context.js';
import { progress } from '../lib/progress.js';
import { round } from '../lib/stats.js';
import type { StepResult } from '../load/rate.js';
import { windowEnd, windowStart, type Window } from '../lib/cpuprofile.js';

/**
 * Send → deliver latency at fixed rates: Parley (REST POST by A → B's SSE stream) against raw XMPP
 * (A's client → B's client) through the same Prosody, one after the other at each rate.
 */

export interface LatencyPoint extends StepResult {
  system: string;
  cpuMs: Record<string, number>;
  cpuUsPerMsg: Record<string, number>;
  /** CPU of the load-generator process during the step, % of one core */
  loadgenCorePct: number;
  machineBusyPct: number;
  othersPct: number;
}

export async function latencyScenario(
  ctx: Ctx,
  users: { raw: [string, string]; parley: [string, string] },
  windows: Window[],
): Promise<Record<string, unknown>> {
  const { prosody } = ctx;
  const acct = (username: string) => ({
    service: prosody.service,
    domain: prosody.domain,
    username,
    password: ctx.password,
  });
  progress('connecting raw XMPP pair and logging in the Parley pair');
  await ctx.gen.call('driver', {
    id: 'lat-raw',
    kind: 'raw-xmpp',
    config: { tag: 'lr', tx: acct(users.raw[0]), rx: acct(users.raw[1]) },
  });
  await ctx.gen.call('driver', {
    id: 'lat-parley',
    kind: 'parley',
    config: {
      tag: 'lp',
      url: ctx.parley.url,
      domain: prosody.domain,
      tx: { username: users.parley[0], password: ctx.password },
      rx: { via: 'parley', username: users.parley[1], password: ctx.password },
    },
  });
  const systems = [
    ['raw-xmpp', 'lat-raw'],
    ['parley', 'lat-parley'],
  ] as const;
  // warm-up: JIT, connection pools, Prosody's archive tables
  for (const [, id] of systems)
    await ctx.gen.call('step', { id, spec: { rate: 100, durationMs: 1000, drainMs: 1000 } });
  const m = meter(ctx, 'prosody');
  const points: LatencyPoint[] = [];
  let failed: string | undefined;
  rates: for (const rate of ctx.opts.latencyRates) {
    for (const [system, id] of systems) {
      await waitIdle([ctx.parley.pid, prosodyPid(prosody), postgresPid(ctx.postgres)], 5000);
      // enough samples for a p99 at low rates: at least 150 (quick) / 2,000 (full) messages
      const durationMs = Math.max(ctx.opts.latencyMs, ((ctx.opts.quick ? 150 : 2000) / rate) * 1000);
      progress(`${system} at ${rate} msg/s for ${durationMs / 1000} s`);
      m.begin();
      const w = windowStart();
      let r: StepResult;
      try {
        r = await ctx.gen.call<StepResult>(
          'step',
          { id, spec: { rate, durationMs, drainMs: ctx.opts.drainMs * 2, keepCdf: true } },
          durationMs + ctx.opts.drainMs * 2 + 60_000,
        );
      } catch (err) {
        // keep what was measured; the drivers lived in the generator, so the scenario ends here
        failed = `${system} at ${rate} msg/s: ${String((err as Error)?.message ?? err).split('\n')[0]}`;
        progress(`FAILED: ${failed}`);
        ctx.findings.push(`latency: ${failed}`);
        m.end();
        break rates;
      }
      if (system === 'parley') windows.push(windowEnd(w));
      const { cpuMs, wallMs, machineBusyPct, othersPct } = m.end();
      points.push({
        system,
        ...r,
        cpuMs,
        cpuUsPerMsg: perMessage(cpuMs, r.delivered),
        loadgenCorePct: Math.round(((cpuMs.loadgen ?? 0) / Math.max(1, wallMs)) * 100),
        machineBusyPct,
        othersPct,
      });
      progress(
        `  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  delivered ${r.delivered}/${r.sent}${r.sendErrors ? `  errors ${r.sendErrors} (${r.firstError})` : ''}${r.aborted ? `  OVERLOADED: ${r.aborted}` : ''}`,
      );
    }
  }
  for (const [, id] of systems) await ctx.gen.call('closeDriver', { id }, 15_000).catch(() => undefined);
  await reviveGen(ctx, 'latency');
  const comparisons = ctx.opts.latencyRates.flatMap((rate) => {
    const raw = points.find((p) => p.system === 'raw-xmpp' && p.rate === rate);
    const par = points.find((p) => p.system === 'parley' && p.rate === rate);
    if (!raw || !par) return [];
    return {
      rate,
      rawP50: raw.latency.p50,
      parleyP50: par.latency.p50,
      p50Ratio: round(par.latency.p50 / raw.latency.p50, 2),
      rawP99: raw.latency.p99,
      parleyP99: par.latency.p99,
      p99DiffMs: round(par.latency.p99 - raw.latency.p99, 2),
      lost: { raw: raw.lost, parley: par.lost },
      // a system that could not keep up: its latency figures describe only what got through
      overloaded: {
        raw: !!raw.aborted || !!raw.incidents || raw.lost > raw.sent * 0.01,
        parley: !!par.aborted || !!par.incidents || par.lost > par.sent * 0.01,
      },
    };
  });
  return { server: 'prosody', points, comparisons, ...(failed ? { failed } : {}) };
}
