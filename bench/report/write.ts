import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lineChart, type Series } from './svg.js';
import type { Summary } from '../lib/stats.js';
import { LOADGEN_LIMIT_PCT, rawBaseline, type Curve } from '../scenarios/throughput.js';
import type { LoadCheck } from '../lib/load.js';
import type { ScenarioStatus } from '../lib/meta.js';
import type { LatencyPoint } from '../scenarios/latency.js';
import type { ScalePoint } from '../scenarios/scale.js';
import type { CrowdResult } from '../scenarios/crowd.js';
import { floodSection, floodTarget } from './flood.js';
import { crowdStatementsTarget, statementsCell, statementsTargets, switchesCell } from './statements.js';
import type { Knee } from '../scenarios/knee.js';
import type { ProfileSummary } from '../lib/cpuprofile.js';

/** bench/results/<date>.json (everything), <date>.md (the summary) and the charts beside them. */

export interface Report {
  meta: Record<string, unknown> & { machine: Record<string, unknown>; mode: string };
  results: Record<string, unknown>;
  findings: string[];
  profiles?: Record<string, unknown>;
}

interface Target {
  target: string;
  measured: string;
  status: 'met' | 'not met' | 'not measured' | 'indicative';
  note?: string;
}

type Throughput = {
  prosody: { server: string; curves: Curve[] };
  knee?: Knee;
  modRest?: string;
  error?: string;
  ejabberd: {
    curves?: Curve[];
    interop?: { check: string; ok: boolean; ms: number; detail?: string }[];
    parleyWarnings?: { level: number; msg: string; err?: string; count: number }[];
    server?: Record<string, unknown>;
    skipped?: string;
  };
};
type Latency = {
  points: LatencyPoint[];
  comparisons: {
    rate: number;
    rawP50: number;
    parleyP50: number;
    p50Ratio: number;
    rawP99: number;
    parleyP99: number;
    p99DiffMs: number;
    overloaded: { raw: boolean; parley: boolean };
  }[];
};
type HistoryRes = {
  rows: number;
  insertMs: number;
  queriesPerShape: number;
  indexesShipped?: boolean;
  asShipped: {
    results: Record<string, { latency: Summary; messages: number; errors: number; firstError?: string }>;
    parleyCpuMsPerQuery: number;
    postgresCpuMsPerQuery: number;
  };
  plansShipped: Record<string, string[]>;
  whatIf?: {
    indexes: string[];
    buildMs: number;
    results: Record<string, { latency: Summary; messages: number; errors: number }>;
    plans: Record<string, string[]>;
  };
};
type Rooms = {
  occupants: number;
  streams: number;
  join: { latency: Summary; wallMs: number; failed: number };
  fanout: {
    messages: number;
    complete: number;
    missing: number;
    all: Summary;
    median: Summary;
    perStream: Summary;
    postAck: Summary;
  };
  cpuMsPerPost: Record<string, number>;
  skipped?: string;
};

const ok = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !('error' in (v as object)) && !('skipped' in (v as object));
const n = (x: number | undefined, d = 1): string =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en', { maximumFractionDigits: d });
const curveBy = (curves: Curve[] | undefined, system: string): Curve | undefined =>
  curves?.find((c) => c.system === system);
/** throughput results are worth showing even from a scenario that failed part-way */
const hasCurves = (v: unknown): v is Throughput =>
  !!v && typeof v === 'object' && Array.isArray((v as Throughput).prosody?.curves);
/** one line for a table cell: whitespace collapsed, pipes and tags escaped (an error body may be a whole HTML page) */
const cell = (x: string | undefined, max = 160): string => {
  const one = (x ?? '')
    .replace(/<!DOCTYPE html>[\s\S]*?<title>([^<]*)<\/title>[\s\S]*/i, '(an HTML page: $1)')
    .replace(/\s+/g, ' ')
    .trim();
  return (one.length > max ? `${one.slice(0, max)}…` : one).replace(/\|/g, '\\|').replace(/</g, '&lt;');
};

/**
 * Why a curve cannot stand in a comparison, or undefined when it can: it failed before any step, nothing
 * was delivered at any rate, or it sustained none of its rates because its lowest rate already failed with
 * errors (a driver or server that does not work, not a rate it cannot keep up with).
 */
export function curveNotMeasured(c: Curve): string | undefined {
  if (!c.steps.length) return c.failed ?? 'no step ran';
  const errors = c.steps.reduce((m, s) => m + s.sendErrors, 0);
  const first = c.steps.find((s) => s.firstError)?.firstError ?? c.failed;
  if (!c.steps.some((s) => s.delivered > 0))
    return `nothing delivered at any of its ${c.steps.length} rates${errors ? `, ${n(errors, 0)} send errors, the first: ${cell(first, 120)}` : first ? ` (${cell(first, 120)})` : ''}`;
  const lowest = [...c.steps].sort((a, b) => a.rate - b.rate)[0]!;
  if (!c.sustained && (lowest.sendErrors > 0 || lowest.incidents?.count))
    return `its lowest rate (${n(lowest.rate, 0)} msg/s) already failed with ${n(lowest.sendErrors || lowest.incidents?.count, 0)} errors, the first: ${cell(lowest.firstError ?? lowest.incidents?.last, 120)}`;
  return undefined;
}

/**
 * `subject` ≥ `need` × `base`, on sustained rates. Either side not measured makes the target not measured
 * (never met against a baseline of 0). A base that sustained none of its rates (too slow even at the lowest,
 * without errors) bounds the ratio from below: met if that bound reaches `need`, else not measured.
 */
function rateRatio(
  subject: { curve: Curve; name: string },
  base: { curve: Curve; name: string },
  need: number,
): Pick<Target, 'measured' | 'status'> {
  for (const side of [base, subject]) {
    const why = curveNotMeasured(side.curve);
    if (why) return { measured: `${side.name} not measured: ${why}`, status: 'not measured' };
  }
  const sv = subject.curve.sustained;
  const bv = base.curve.sustained;
  if (bv > 0) {
    const ratio = sv / bv;
    return {
      measured: `${n(sv, 0)} vs ${n(bv, 0)} msg/s = ${n(ratio, 2)}×`,
      status: ratio >= need ? 'met' : 'not met',
    };
  }
  const lowest = Math.min(...base.curve.steps.map((s) => s.rate));
  const bound = sv / lowest;
  const head = `${n(sv, 0)} vs < ${n(lowest, 0)} msg/s (${base.name} sustained none of its rates, the lowest ${n(lowest, 0)} msg/s)`;
  return bound >= need
    ? { measured: `${head} = > ${n(bound, 2)}×`, status: 'met' }
    : { measured: `${head}: the ratio is only known to exceed ${n(bound, 2)}×`, status: 'not measured' };
}

/**
 * A scale point's gateway memory per session, or why there is none: nothing is divided by zero streams or
 * logins (results written before the scale scenario said so itself included).
 */
function scaleMemory(p: ScalePoint): { kb: number; note?: string } | { why: string } {
  const logins = p.login?.ok ?? 0;
  const streams = p.streams?.open ?? 0;
  if (p.skipped) return { why: p.skipped };
  if (!logins)
    return {
      why: `not measured: no user logged in${p.login?.firstError ? ` (${p.login.firstError})` : ''}`,
    };
  if (!streams)
    return {
      why: `not measured: no SSE stream opened (${p.streams?.failed ?? 0} failed${p.streams?.firstError ? `: ${p.streams.firstError}` : ''})`,
    };
  if (p.kbPerSession === undefined) return { why: p.memoryNote ?? 'not measured' };
  return { kb: p.kbPerSession, ...(p.memoryNote ? { note: p.memoryNote } : {}) };
}

export function targets(r: Report): Target[] {
  const out: Target[] = [];
  const lat = r.results.latency as Latency | undefined;
  if (ok(lat)) {
    const over = (c: Latency['comparisons'][number]): string | undefined =>
      c.overloaded.parley
        ? `Parley could not sustain ${c.rate} msg/s in this run`
        : c.overloaded.raw
          ? `raw XMPP could not sustain ${c.rate} msg/s in this run`
          : undefined;
    // a side that delivered nothing has no latency to compare: not measured, with its first error
    const missing = (c: Latency['comparisons'][number]): string | undefined => {
      for (const system of ['raw-xmpp', 'parley']) {
        const p = lat.points.find((x) => x.system === system && x.rate === c.rate);
        if (p && p.delivered > 0) continue;
        if (system === 'parley' && p?.aborted) continue; // overloaded: a result (not met), not a failure
        return `${system === 'parley' ? 'Parley' : 'raw XMPP'} delivered nothing at ${c.rate} msg/s${p?.firstError ? ` (${cell(p.firstError, 120)})` : ''}`;
      }
      return undefined;
    };
    for (const c of lat.comparisons) {
      const o = over(c);
      const why = missing(c);
      out.push({
        target: `send→deliver p50 ≤ 1.3× raw XMPP (${c.rate} msg/s)`,
        measured: why ?? `${n(c.parleyP50, 2)} ms vs ${n(c.rawP50, 2)} ms = ${n(c.p50Ratio, 2)}×`,
        status: why ? 'not measured' : !c.overloaded.parley && c.p50Ratio <= 1.3 ? 'met' : 'not met',
        ...(o && !why ? { note: o } : {}),
      });
    }
    const c500 = lat.comparisons.find((c) => c.rate === 500);
    if (c500) {
      const o = over(c500);
      const why = missing(c500);
      out.push({
        target: 'p99 ≤ raw + 2 ms at 500 msg/s',
        measured:
          why ??
          `${n(c500.parleyP99, 2)} ms vs ${n(c500.rawP99, 2)} ms = raw ${c500.p99DiffMs >= 0 ? '+' : ''}${n(c500.p99DiffMs, 2)} ms`,
        status: why ? 'not measured' : !c500.overloaded.parley && c500.p99DiffMs <= 2 ? 'met' : 'not met',
        ...(o && !why ? { note: o } : {}),
      });
    }
  } else out.push({ target: 'send→deliver latency vs raw XMPP', measured: '–', status: 'not measured' });
  const tp = r.results.throughput as Throughput | undefined;
  if (hasCurves(tp)) {
    // the best raw curve that delivered; else the first raw curve, to say why there is no baseline
    const raw =
      rawBaseline(tp.prosody.curves, 'prosody') ??
      tp.prosody.curves.find((c) => c.server === 'prosody' && c.system.startsWith('raw XMPP'));
    const par = curveBy(tp.prosody.curves, 'Parley');
    if (raw && par) {
      out.push({
        target: 'sustained throughput ≥ 0.8× raw XMPP (Prosody, p99 < 100 ms)',
        ...rateRatio({ curve: par, name: 'Parley' }, { curve: raw, name: raw.system }, 0.8),
        ...(raw.driver ? { note: `raw: ${raw.system}` } : {}),
      });
    }
    out.push(...statementsTargets(tp.prosody.curves));
    for (const server of ['prosody', 'ejabberd'] as const) {
      const all = [...tp.prosody.curves, ...(tp.ejabberd?.curves ?? [])];
      const base = rawBaseline(all, server);
      if (!base) {
        // raw curves that ran but delivered nothing: no ceiling to judge the generator at
        const tried = all.find((c) => c.server === server && c.system.startsWith('raw XMPP'));
        if (tried)
          out.push({
            target: `raw baseline on ${server} is the server's limit: load generator < ${LOADGEN_LIMIT_PCT} % of a core at the raw ceiling`,
            measured: `${tried.system} not measured: ${curveNotMeasured(tried) ?? tried.failed ?? 'no raw curve delivered'}`,
            status: 'not measured',
          });
        continue;
      }
      const pct = base.loadgenCorePctAtCeiling;
      out.push({
        target: `raw baseline on ${server} is the server's limit: load generator < ${LOADGEN_LIMIT_PCT} % of a core at the raw ceiling`,
        measured: `${pct === undefined ? '–' : `${n(pct, 0)} %`} of a core (${base.system}, ${base.driver ?? ''})`,
        status: pct === undefined ? 'not measured' : pct < LOADGEN_LIMIT_PCT ? 'met' : 'not met',
        ...(pct !== undefined && pct >= LOADGEN_LIMIT_PCT
          ? { note: 'the raw figure is a lower bound: the load generator, not the server, may be the limit' }
          : {}),
      });
    }
    const mr = curveBy(tp.prosody.curves, 'mod_rest');
    if (mr && par) {
      out.push({
        target: 'Parley ≥ 5× mod_rest (same Prosody, sustained rate)',
        ...rateRatio({ curve: par, name: 'Parley' }, { curve: mr, name: 'mod_rest' }, 5),
      });
    } else
      out.push({
        target: 'Parley ≥ 5× mod_rest (same Prosody, sustained rate)',
        measured: tp.modRest ?? 'not run',
        status: 'not measured',
      });
    const sm = curveBy(tp.ejabberd?.curves, 'ejabberd send_message');
    const pe = curveBy(tp.ejabberd?.curves, 'Parley → XMPP client');
    if (sm && pe) {
      out.push({
        target: 'REST send rate ≥ 1.0× ejabberd send_message (same ejabberd)',
        ...rateRatio(
          { curve: pe, name: 'Parley → XMPP client' },
          { curve: sm, name: 'ejabberd send_message' },
          1,
        ),
      });
    } else
      out.push({
        target: 'REST send rate ≥ 1.0× ejabberd send_message',
        measured: tp.ejabberd?.skipped ?? '–',
        status: 'not measured',
      });
  }
  if (hasCurves(tp) && tp.knee) out.push(kneeTarget(tp.knee));
  const flood = floodTarget(r.results.flood);
  if (flood) out.push(flood);
  const crowd = r.results.crowd as CrowdResult | undefined;
  if (ok(crowd)) {
    const full = crowd.users >= 5000 && (crowd.chat?.chatters ?? 0) >= 500;
    const at = `${n(crowd.streams.open, 0)} users online, ${n(crowd.chat?.chatters ?? 0, 0)} chatting`;
    const grade = (good: boolean): Target['status'] => (good ? (full ? 'met' : 'indicative') : 'not met');
    const c = crowd.chat;
    // Nothing may be lost in the warm-up either; only the p99 is of the chat after it.
    const missed = c ? c.lost + c.errors + (c.warmup ? c.warmup.lost + c.warmup.errors : 0) : 0;
    const sentAll = c ? c.sent + (c.warmup?.sent ?? 0) : 0;
    const warm = c?.warmup
      ? ` after a ${c.warmup.seconds} s warm-up (the warm-up's own p99 ${n(c.warmup.latency.p99, 1)} ms)`
      : '';
    if (c)
      out.push({
        target:
          '5,000 users online, 500 chatting in pairs at 1 msg/s: p99 send → deliver < 150 ms, nothing lost',
        ...(c.delivered > 0
          ? {
              measured: `p99 ${n(c.latency.p99, 1)} ms${warm}, ${n(missed, 0)} of ${n(sentAll, 0)} lost or refused (${at})`,
              status: grade(c.latency.p99 < 150 && missed === 0),
            }
          : {
              measured: `nothing delivered of ${n(c.sent, 0)} sent (${at})${c.firstError ? `: ${cell(c.firstError, 120)}` : ''}`,
              status: 'not measured' as const,
            }),
      });
    if (c) out.push(crowdStatementsTarget(c, at));
    out.push({
      target: 'the same users idle: Prosody < 5 % and the gateway < 5 % of a core',
      ...(crowd.streams.open > 0
        ? {
            measured: `Prosody ${n(crowd.idle.corePct.xmppServer, 1)} %, gateway ${n(crowd.idle.corePct.parley, 1)} % (${n(crowd.streams.open, 0)} idle users, ${crowd.idle.seconds} s)`,
            status: grade(
              (crowd.idle.corePct.xmppServer ?? 100) < 5 && (crowd.idle.corePct.parley ?? 100) < 5,
            ),
          }
        : {
            measured: `no SSE stream opened (${n(crowd.streams.failed, 0)} failed${crowd.streams.firstError ? `: ${cell(crowd.streams.firstError, 120)}` : ''})`,
            status: 'not measured' as const,
          }),
    });
    out.push({
      target: 'logins ≥ 300/s',
      ...(crowd.login.ok > 0
        ? {
            measured: `${n(crowd.login.perSecond, 0)}/s (${n(crowd.login.ok, 0)} logins, 32 concurrent)`,
            status: crowd.login.perSecond >= 300 ? 'met' : 'not met',
          }
        : {
            measured: `no login succeeded (${n(crowd.login.failed, 0)} failed${crowd.login.firstError ? `: ${cell(crowd.login.firstError, 120)}` : ''})`,
            status: 'not measured' as const,
          }),
    });
  }
  const scale = r.results.scale as ScalePoint[] | undefined;
  if (Array.isArray(scale)) {
    // a point without a memory figure (no stream or no login held) is never divided by: it says why
    const measured = scale.filter((p) => 'kb' in scaleMemory(p));
    const biggest = measured.at(-1);
    const kb = biggest ? (scaleMemory(biggest) as { kb: number }).kb : Infinity;
    const unmeasured = scale
      .filter((p) => !('kb' in scaleMemory(p)) && p.sessions > (biggest?.sessions ?? 0))
      .map((p) => cell(`${n(p.sessions, 0)} sessions ${(scaleMemory(p) as { why: string }).why}`, 200));
    if (biggest) {
      const held = Math.min(biggest.login?.ok ?? 0, biggest.streams?.open ?? 0);
      // 10,000 requested but capped by the open-files limit (9,900): still the 10k point
      const full = (biggest.requested ?? biggest.sessions) >= 10_000 && held >= 9_800;
      out.push({
        target: '10,000 sessions at ≤ 30 KB gateway memory per session',
        measured: `${n(kb, 1)} KB/session RSS at ${n(held, 0)} sessions${unmeasured.length ? `; ${unmeasured.join('; ')}` : ''}`,
        status: full ? (kb <= 30 ? 'met' : 'not met') : kb <= 30 ? 'indicative' : 'not met',
        ...(full
          ? biggest.note
            ? { note: biggest.note }
            : {}
          : { note: `largest size measured: ${biggest.sessions}` }),
      });
    } else
      out.push({
        target: '10,000 sessions at ≤ 30 KB per session',
        measured: unmeasured.join('; ') || '–',
        status: 'not measured',
      });
  }
  const hist = r.results.history as HistoryRes | undefined;
  if (ok(hist)) {
    const worst = Object.entries(hist.asShipped.results).sort(
      (a, b) => b[1].latency.p99 - a[1].latency.p99,
    )[0];
    const worstIdx =
      hist.whatIf &&
      Object.entries(hist.whatIf.results).sort((a, b) => b[1].latency.p99 - a[1].latency.p99)[0];
    // a shape whose queries failed has no p99 worth comparing (the failures would not be in it)
    const failedShape = Object.entries(hist.asShipped.results).find(([, v]) => v.errors > 0 || !v.latency.n);
    if (failedShape)
      out.push({
        target: `history page p99 < 10 ms at 1M messages`,
        measured: `shape "${failedShape[0]}": ${n(failedShape[1].errors, 0)} of ${hist.queriesPerShape} queries failed${failedShape[1].firstError ? ` (${cell(failedShape[1].firstError, 120)})` : ''}`,
        status: 'not measured',
      });
    else if (worst) {
      const p99 = worst[1].latency.p99;
      out.push({
        target: `history page p99 < 10 ms at 1M messages`,
        measured: `worst shape "${worst[0]}" p99 ${n(p99, 1)} ms at ${n(hist.rows, 0)} rows`,
        status: hist.rows >= 1_000_000 ? (p99 < 10 ? 'met' : 'not met') : p99 < 10 ? 'indicative' : 'not met',
        note: `${hist.rows < 1_000_000 ? `quick run: ${n(hist.rows, 0)} rows` : ''}${worstIdx ? `${hist.rows < 1_000_000 ? '. ' : ''}With the proposed indexes: worst "${worstIdx[0]}" p99 ${n(worstIdx[1].latency.p99, 1)} ms` : ''}`,
      });
    }
  }
  return out;
}

function latencyTable(lat: Latency): string[] {
  const rows = [
    "| system | rate msg/s | delivered | p50 ms | p90 ms | p95 ms | p99 ms | max ms | REST/stanza ack p50 ms | CPU µs/msg: gateway · XMPP server · postgres · load gen | load generator % of a core | other processes' CPU (% of machine) |",
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const p of lat.points) {
    const c = p.cpuUsPerMsg;
    rows.push(
      `| ${p.system} | ${p.rate} | ${p.delivered}/${Math.round((p.rate * p.durationMs) / 1000)}${p.aborted ? ' (overloaded: sending stopped)' : ''} | ${n(p.latency.p50, 2)} | ${n(p.latency.p90, 2)} | ${n(p.latency.p95, 2)} | ${n(p.latency.p99, 2)} | ${n(p.latency.max, 1)} | ${n(p.ack.p50, 2)} | ${p.system === 'parley' ? n(c.parley, 0) : '–'} · ${n(c.xmppServer, 0)} · ${n(c.postgres, 0)} · ${n(c.loadgen, 0)} | ${n(p.loadgenCorePct, 0)} | ${n(p.othersPct, 0)} |`,
    );
  }
  return rows;
}

function curveTable(curves: Curve[]): string[] {
  const rows = [
    '| system | path | load driver | closed-loop probe msg/s | **sustained msg/s** (p99 < 100 ms) | max delivered msg/s | p50 / p99 ms at sustained | CPU µs/msg at sustained: gateway · XMPP server · postgres | PostgreSQL statements per message at sustained | load generator at the ceiling (% of a core) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of curves) {
    const at = c.steps.filter((s) => s.sustained).at(-1);
    const lg = c.loadgenCorePctAtCeiling;
    rows.push(
      `| ${c.system} | ${c.path} | ${c.driver ?? '–'} | ${n(c.probe.rate, 0)} | **${n(c.sustained, 0)}**${c.failed ? ` (failed: ${c.failed.replace(/\|/g, '\\|').slice(0, 200)})` : ''} | ${n(c.maxDelivered, 0)} | ${at ? `${n(at.latency.p50, 2)} / ${n(at.latency.p99, 1)}` : '–'} | ${at ? `${c.path.startsWith('REST') ? n(at.cpuUsPerMsg.parley, 0) : '–'} · ${n(at.cpuUsPerMsg.xmppServer, 0)} · ${n(at.cpuUsPerMsg.postgres, 0)}` : '–'} | ${statementsCell(c, at)} | ${lg === undefined ? '–' : `${n(lg, 0)} %${lg >= LOADGEN_LIMIT_PCT ? ' ⚠' : ''}`} |`,
    );
  }
  return rows;
}

/** p99 of what was accepted stays under this past the knee (the step's own 1 s backlog stop is off there) */
const KNEE_P99_MS = 1000;

/** Past the knee: something refused, nothing accepted lost, p99 of the accepted bounded. */
function kneeTarget(k: Knee): Target {
  const past = k.curve.steps.filter((s) => s.rate > k.base);
  const worst = past.reduce((m, s) => Math.max(m, s.latency.p99), 0);
  const lost = past.reduce((m, s) => m + s.lost, 0);
  const refused = past.reduce((m, s) => m + s.refused, 0);
  const top = past.at(-1);
  const why = curveNotMeasured(k.curve);
  if (why)
    return {
      target: 'backpressure past the knee: excess refused (429/503), nothing accepted lost, latency bounded',
      measured: why,
      status: 'not measured',
    };
  return {
    target: 'backpressure past the knee: excess refused (429/503), nothing accepted lost, latency bounded',
    measured: top
      ? `offered up to ${n(top.offeredRate, 0)}/s (${n(top.rate / k.base, 1)}× sustained ${n(k.base, 0)}/s): accepted ${n(top.acceptedRate, 0)}/s, refused ${n(top.refusedRate, 0)}/s, delivered ${n(top.deliveredRate, 0)}/s; past the knee ${n(refused, 0)} refused, ${n(lost, 0)} accepted but not delivered, worst p99 ${n(worst, 0)} ms`
      : (k.curve.failed ?? 'no step past the knee'),
    status: !top ? 'not measured' : refused > 0 && lost === 0 && worst < KNEE_P99_MS ? 'met' : 'not met',
  };
}

function kneeTable(k: Knee): string[] {
  const rows = [
    '| offered msg/s (× sustained) | accepted (201) /s | refused (429/503) /s | delivered /s | p50 / p99 ms of the delivered | accepted, not delivered | CPU µs per delivered: gateway · Prosody · postgres | first refusal or error |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of k.curve.steps)
    rows.push(
      `| ${n(s.offeredRate, 0)} (${n(s.rate / k.base, 1)}×) | ${n(s.acceptedRate, 0)} | ${n(s.refusedRate, 0)} | ${n(s.deliveredRate, 0)} | ${n(s.latency.p50, 1)} / ${n(s.latency.p99, 1)} | ${n(s.lost + s.sendErrors, 0)} | ${n(s.cpuUsPerMsg.parley, 0)} · ${n(s.cpuUsPerMsg.xmppServer, 0)} · ${n(s.cpuUsPerMsg.postgres, 0)} | ${(s.firstError ?? '').replace(/\|/g, '\\|').slice(0, 120)} |`,
    );
  return rows;
}

function stepsTable(curves: Curve[]): string[] {
  const rows = [
    "| system | offered msg/s | delivered msg/s | p50 ms | p99 ms | lost | refused (429/503) | verdict | CPU µs/msg gateway · XMPP server · postgres | context switches per message: gateway · XMPP server · postgres | PostgreSQL statements per message | load generator % of a core | other processes' CPU % |",
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of curves)
    for (const s of c.steps)
      rows.push(
        `| ${c.system} (${c.server}) | ${s.rate} | ${n(s.deliveredRate, 0)} | ${n(s.latency.p50, 2)} | ${n(s.latency.p99, 1)} | ${s.lost + s.sendErrors} | ${s.refused ?? 0} | ${s.sustained ? 'sustained' : cell(s.why ?? 'no', 200)} | ${c.path.startsWith('REST') ? n(s.cpuUsPerMsg.parley, 0) : '–'} · ${n(s.cpuUsPerMsg.xmppServer, 0)} · ${n(s.cpuUsPerMsg.postgres, 0)} | ${switchesCell(c, s)} | ${statementsCell(c, s)} | ${n(s.loadgenCorePct, 0)} | ${n(s.othersPct, 0)} |`,
      );
  return rows;
}

/** Complete or partial, comparable or not, and each scenario's outcome with the load around it. */
function runStatus(r: Report): string[] {
  const L: string[] = [];
  const load = r.meta.load as LoadCheck | undefined;
  const scenarios = (r.meta.scenarios ?? {}) as Record<string, ScenarioStatus>;
  if (r.meta.status === 'partial')
    L.push(
      '',
      '**Partial results**: the run did not finish (or this was written after a scenario); what completed is below, what failed says why.',
      '',
    );
  if (load && !load.comparable)
    L.push('', `**NOT comparable: ${load.note ?? 'the machine was loaded'}.**`, '');
  else if (load?.note) L.push('', `Load: ${load.note}.`, '');
  const names = Object.keys(scenarios);
  if (names.length) {
    L.push(
      '',
      '| scenario | outcome | seconds | load average before → after (1/5/15 min) | why |',
      '|---|---|---|---|---|',
    );
    for (const k of names) {
      const st = scenarios[k]!;
      L.push(
        `| ${k} | ${st.status === 'ok' ? '✅ ok' : st.status === 'failed' ? '❌ failed' : '– skipped'}${st.generatorRestarted ? ' (load generator died, restarted)' : ''} | ${n(st.seconds, 1)} | ${st.loadavgBefore.join(' ')} → ${st.loadavgAfter?.join(' ') ?? '–'} | ${(st.why ?? '').replace(/\|/g, '\\|').slice(0, 300)} |`,
      );
    }
    L.push('');
  }
  return L;
}

export function markdown(r: Report, charts: string[]): string {
  const m = r.meta;
  const mach = m.machine;
  const L: string[] = [];
  L.push(
    `# Parley benchmark — ${String(m.startedAt).slice(0, 16).replace('T', ' ')} UTC (${m.mode} run, ${String(m.durationS)} s${m.status === 'partial' ? ', PARTIAL' : ''}${(m.load as LoadCheck | undefined)?.comparable === false ? ', loaded machine: not comparable' : ''})`,
    '',
  );
  L.push(
    `Machine: ${String(mach.cpus)} × ${String(mach.cpuModel)}, ${n(Number(mach.memoryMb) / 1024, 1)} GB, ${String(mach.os)}, Node ${String(mach.node)}.`,
  );
  L.push(...runStatus(r));
  L.push(
    `Load average before / after: ${(mach.loadavgBefore as number[]).join(' ')} / ${(mach.loadavgAfter as number[]).join(' ')} — **absolute figures are noisy when the machine is shared; read the ratios and the CPU-per-message columns.**`,
  );
  L.push(`Core layout: ${String(m.coreLayout)}.`);
  const v = m.versions as Record<string, string>;
  L.push(
    `Versions: Prosody ${v.prosody}, ejabberd ${v.ejabberd}, PostgreSQL ${v.postgresql}, @xmpp/client ${v['@xmpp/client']}, Koa ${v.koa}, better-sse ${v['better-sse']}, pg ${v.pg}.`,
    '',
  );
  L.push('Servers (the baselines run on the same configuration Parley runs on):', '');
  for (const [k, s] of Object.entries(m.servers as Record<string, string>)) L.push(`- ${k}: ${s}`);
  L.push('', '## Targets', '', '| target | measured | status |', '|---|---|---|');
  for (const t of targets(r))
    L.push(
      `| ${t.target} | ${t.measured}${t.note ? ` (${t.note})` : ''} | ${t.status === 'met' ? '✅ met' : t.status === 'not met' ? '❌ not met' : t.status === 'indicative' ? '◐ indicative' : '– not measured'} |`,
    );
  L.push('');
  if (charts.length) {
    L.push('Charts: ' + charts.map((c) => `[${c}](${c})`).join(' · '), '');
  }

  const lat = r.results.latency as Latency | undefined;
  L.push('## Latency: REST send → SSE delivery vs raw XMPP (Prosody)', '');
  if (ok(lat)) {
    const failed = (lat as { failed?: string }).failed;
    if (failed) L.push(`**Stopped part-way**: ${failed}.`, '');
    L.push(...latencyTable(lat), '');
    L.push(
      "Latency counts from the moment each message was due (open loop), to its arrival: on the recipient's SSE stream (Parley) or at the recipient XMPP client (raw).",
      '',
    );
  } else L.push(`_${JSON.stringify(lat ?? 'not run').slice(0, 400)}_`, '');

  const tp = r.results.throughput as Throughput | undefined;
  L.push('## Throughput', '');
  if (hasCurves(tp)) {
    if (tp.error)
      L.push(`**The scenario failed part-way** (${tp.error.split('\n')[0]}); what it measured before:`, '');
    L.push(`### Prosody — ${tp.prosody.server}`, '', ...curveTable(tp.prosody.curves), '');
    if (tp.knee)
      L.push(
        `### Backpressure: Parley past the knee`,
        '',
        `Open-loop steps at multiples of Parley's sustained ${n(tp.knee.base, 0)} msg/s, every message offered (no backlog stop in the load generator): what holds the backlog is Parley's bounded outbound queues, answering 429 SEND_QUEUE_FULL / 503 XMPP_BACKLOG with Retry-After. Latency is of the accepted messages; past the knee the accepted and delivered rates should stay near the ceiling and p99 bounded.`,
        '',
        ...(tp.knee.curve.failed ? [`_failed: ${tp.knee.curve.failed}_`, ''] : []),
        ...kneeTable(tp.knee),
        '',
      );
    L.push(
      `The raw baseline is the server's limit only while the load generator stays below ${LOADGEN_LIMIT_PCT} % of a core at the ceiling; where the @xmpp/client driver did not, the lean driver (pre-serialized stanzas on a plain socket, arrivals counted without a DOM) ran too and the better raw row is the baseline. mod_rest: ${tp.modRest ?? 'not run'}.`,
      '',
    );
    tp.ejabberd ??= {};
    if (tp.ejabberd.curves?.length) {
      L.push(
        '### ejabberd 23.01 — same comparison, plus its HTTP API',
        '',
        ...curveTable(tp.ejabberd.curves),
        '',
      );
    } else L.push(`ejabberd: ${tp.ejabberd.skipped ?? 'not run'}`, '');
    L.push(
      '<details><summary>every step</summary>',
      '',
      ...stepsTable([...tp.prosody.curves, ...(tp.ejabberd.curves ?? [])]),
      '',
      '</details>',
      '',
    );
    if (tp.ejabberd.interop) {
      L.push(
        '### Parley on ejabberd: interop checks',
        '',
        '| check | result | ms | detail |',
        '|---|---|---|---|',
      );
      for (const c of tp.ejabberd.interop)
        L.push(
          `| ${c.check} | ${c.ok ? '✅' : '❌'} | ${c.ms} | ${(c.detail ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 300)} |`,
        );
      L.push('');
      if (tp.ejabberd.parleyWarnings?.length) {
        L.push('Warnings Parley logged while running on ejabberd:', '');
        for (const w of tp.ejabberd.parleyWarnings)
          L.push(`- ${w.count}× ${w.msg}${w.err ? `: \`${w.err.replace(/`/g, "'").slice(0, 200)}\`` : ''}`);
        L.push('');
      }
    }
  } else L.push(`_${JSON.stringify(tp ?? 'not run').slice(0, 400)}_`, '');

  const rooms = r.results.rooms as Rooms | undefined;
  L.push('## Rooms: one post to a room of Parley occupants', '');
  if (ok(rooms)) {
    const f = rooms.fanout;
    L.push(
      `${rooms.occupants} occupants joined (PUT …/rooms/{room}: p50 ${n(rooms.join.latency.p50, 0)} ms, p99 ${n(rooms.join.latency.p99, 0)} ms), ${rooms.streams} SSE streams open; ${f.messages} posts, ${f.complete} reached every stream${f.missing ? `, ${f.missing} deliveries missing` : ''}.`,
      '',
    );
    L.push('| measure | p50 ms | p90 ms | p99 ms | max ms |', '|---|---|---|---|---|');
    L.push(
      `| POST → **last** of ${rooms.streams} streams has it | ${n(f.all.p50)} | ${n(f.all.p90)} | ${n(f.all.p99)} | ${n(f.all.max)} |`,
    );
    L.push(
      `| POST → median stream has it | ${n(f.median.p50)} | ${n(f.median.p90)} | ${n(f.median.p99)} | ${n(f.median.max)} |`,
    );
    L.push(
      `| POST answered (201) | ${n(f.postAck.p50)} | ${n(f.postAck.p90)} | ${n(f.postAck.p99)} | ${n(f.postAck.max)} |`,
      '',
    );
    L.push(
      `CPU per post: gateway ${n(rooms.cpuMsPerPost.parley, 0)} ms, Prosody ${n(rooms.cpuMsPerPost.xmppServer, 0)} ms, PostgreSQL ${n(rooms.cpuMsPerPost.postgres, 0)} ms.`,
      '',
    );
  } else
    L.push(
      `_${(rooms as { skipped?: string } | undefined)?.skipped ?? JSON.stringify(rooms ?? 'not run').slice(0, 400)}_`,
      '',
    );

  const hist = r.results.history as HistoryRes | undefined;
  L.push('## History: a page of 50', '');
  if (ok(hist)) {
    L.push(
      `${n(hist.rows, 0)} messages of one owner (bulk insert ${n(hist.insertMs / 1000, 1)} s), ${hist.queriesPerShape} sequential HTTP requests per shape. Gateway CPU ${n(hist.asShipped.parleyCpuMsPerQuery, 2)} ms/query, PostgreSQL ${n(hist.asShipped.postgresCpuMsPerQuery, 2)} ms/query as shipped.`,
      '',
    );
    const w = hist.whatIf;
    L.push(
      `| query shape | as shipped p50 / p99 ms |${w ? ' with proposed indexes p50 / p99 ms |' : ''}`,
      `|---|---|${w ? '---|' : ''}`,
    );
    for (const [k, v2] of Object.entries(hist.asShipped.results)) {
      const x = w?.results[k];
      L.push(
        `| ${k} | ${n(v2.latency.p50, 1)} / ${n(v2.latency.p99, 1)} |${w ? ` ${x ? `${n(x.latency.p50, 1)} / ${n(x.latency.p99, 1)}` : '–'} |` : ''}`,
      );
    }
    L.push('');
    if (w)
      L.push(
        `Proposed indexes (a what-if on the bench database, built in ${n(w.buildMs / 1000, 1)} s): \`${w.indexes.join('; ')}\`.`,
        '',
      );
    if (hist.indexesShipped)
      L.push('The schema has the history indexes (migration 0011), so there is no what-if.', '');
    L.push('<details><summary>query plans (EXPLAIN ANALYZE)</summary>', '');
    for (const [k, plan] of Object.entries(hist.plansShipped)) {
      L.push(`as shipped, ${k}:`, '```', ...plan, '```');
      if (w) L.push(`with the indexes, ${k}:`, '```', ...(w.plans[k] ?? []), '```');
    }
    L.push('</details>', '');
  } else L.push(`_${JSON.stringify(hist ?? 'not run').slice(0, 400)}_`, '');

  if (r.results.flood !== undefined) L.push(...floodSection(r.results.flood));
  const crowd = r.results.crowd as CrowdResult | undefined;
  L.push('## Crowd: thousands of users online, some chatting', '');
  if (ok(crowd)) {
    const c = crowd.chat;
    L.push(
      `${n(crowd.login.ok, 0)} of ${n(crowd.users, 0)} users logged in at ${n(crowd.login.perSecond, 0)}/s (p50 ${n(crowd.login.latency.p50, 0)} ms, p99 ${n(crowd.login.latency.p99, 0)} ms${crowd.login.failed ? `; ${crowd.login.failed} failed: ${crowd.login.firstError ?? ''}` : ''}${crowd.login.timedOut ? '; stopped by the time budget' : ''}), ${n(crowd.streams.open, 0)} SSE streams open${crowd.note ? ` (${crowd.note})` : ''}.`,
      '',
      '| phase | gateway % of a core | Prosody % | PostgreSQL % | load generator % | other processes (% of machine) |',
      '|---|---|---|---|---|---|',
      `| all idle (${crowd.idle.seconds} s) | ${n(crowd.idle.corePct.parley, 1)} | ${n(crowd.idle.corePct.xmppServer, 1)} | ${n(crowd.idle.corePct.postgres, 1)} | ${n(crowd.idle.corePct.loadgen, 1)} | ${n(crowd.idle.othersPct, 0)} |`,
      ...(c
        ? [
            `| ${c.chatters} chatting at 1 msg/s (${c.seconds} s) | ${n(c.corePct.parley, 1)} | ${n(c.corePct.xmppServer, 1)} | ${n(c.corePct.postgres, 1)} | ${n(c.corePct.loadgen, 1)} | ${n(c.othersPct, 0)} |`,
          ]
        : []),
      '',
    );
    if (c)
      L.push(
        ...(c.warmup
          ? [
              `Warm-up (the same chat, ${c.warmup.seconds} s, just before; the gateway was restarted for this scenario and its code was cold): ${n(c.warmup.sent, 0)} sent, ${n(c.warmup.delivered, 0)} delivered, ${n(c.warmup.lost, 0)} lost, ${n(c.warmup.errors, 0)} refused; p50 ${n(c.warmup.latency.p50, 1)} ms, p99 ${n(c.warmup.latency.p99, 1)} ms.`,
              '',
            ]
          : []),
        `Chat: ${n(c.sent, 0)} sent, ${n(c.delivered, 0)} delivered, **${n(c.lost, 0)} lost**, ${n(c.errors, 0)} refused${c.firstError ? ` (${c.firstError})` : ''}; send → partner's SSE event p50 ${n(c.latency.p50, 1)} ms, p99 **${n(c.latency.p99, 1)} ms**, max ${n(c.latency.max, 0)} ms; POST answered p50 ${n(c.ack.p50, 1)} ms; ${c.pgStatementsPerMsg !== undefined ? `${n(c.pgStatementsPerMsg, 2)} PostgreSQL statements per delivered message; ` : ''}the generator's own lag p99 ${n(c.sendLag.p99, 1)} ms${c.incidents ? `; the load generator survived ${c.incidents.count} errors` : ''}.`,
        ...(c.bySecond?.length
          ? [
              '',
              `p99 by the second each message was due, delivered (POST answered) in ms: ${c.bySecond.map((b) => `${b.s}: ${n(b.p99, 0)}${b.ackP99 !== undefined ? ` (${n(b.ackP99, 0)})` : ''}`).join(' · ')}.`,
            ]
          : []),
        ...(c.stalls?.length
          ? [
              '',
              `Slowest trivial answer in each second, gateway \`/healthz\` / Prosody ping / PostgreSQL \`SELECT 1\`, ms: ${c.stalls.map((t) => `${t.s}: ${n(t.gateway, 0)}/${n(t.xmpp, 0)}/${n(t.postgres, 0)}`).join(' · ')}.`,
            ]
          : []),
        '',
      );
  } else
    L.push(
      `_${(crowd as { skipped?: string } | undefined)?.skipped ?? JSON.stringify(crowd ?? 'not run').slice(0, 400)}_`,
      '',
    );

  const scale = r.results.scale as ScalePoint[] | undefined;
  L.push('## Scale: concurrent sessions (XMPP session + open SSE stream each)', '');
  if (Array.isArray(scale)) {
    L.push(
      '| sessions | logged in | login rate /s | login p50 / p99 ms | streams | gateway RSS MB before → logins → streams | **KB/session** (RSS) | of which XMPP session · SSE stream | heap KB/session | Prosody KB/session | CPU ms/login: gateway · Prosody · postgres | delivery p50 / p99 ms |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const p of scale) {
      if (p.skipped) {
        L.push(`| ${n(p.sessions, 0)} | ${p.skipped} ||||||||||| `);
        continue;
      }
      const mem = scaleMemory(p);
      const d = p.delivery as
        | {
            latency: Summary;
            delivered: number;
            sent: number;
            errors?: number;
            parleyCpuPct?: number;
            prosodyCpuPct?: number;
            othersPct?: number;
          }
        | undefined;
      L.push(
        `| ${n(p.sessions, 0)}${p.requested ? ` (of ${n(p.requested, 0)} requested: open-files limit)` : ''} | ${n(p.login?.ok, 0)}${p.login?.failed ? ` (${p.login.failed} failed)` : ''} | ${n(p.login?.perSecond, 0)} | ${n(p.login?.latency.p50, 0)} / ${n(p.login?.latency.p99, 0)} | ${n(p.streams?.open, 0)} | ${n(p.parleyRssMb?.before)} → ${n(p.parleyRssMb?.afterLogins)} → ${n(p.parleyRssMb?.after)} | ${'why' in mem ? cell(mem.why, 200) : `**${n(mem.kb)}**${mem.note ? ` (${cell(mem.note, 200)})` : ''}`} | ${n(p.kbPerXmppSession)} · ${'why' in mem ? '–' : n(p.kbPerStream)} | ${'why' in mem ? '–' : n(p.heapKbPerSession)} | ${'why' in mem ? '–' : n(p.prosodyKbPerSession)} | ${n(p.cpuMsPerLogin?.parley, 1)} · ${n(p.cpuMsPerLogin?.xmppServer, 1)} · ${n(p.cpuMsPerLogin?.postgres, 1)} | ${d ? `${n(d.latency.p50, 1)} / ${n(d.latency.p99, 1)} (${d.delivered}/${d.sent}${d.errors ? `, ${d.errors} refused or failed` : ''}; CPU gateway ${n(d.parleyCpuPct, 0)} %, Prosody ${n(d.prosodyCpuPct, 0)} %, others ${n(d.othersPct, 0)} %)` : '–'} |`,
      );
    }
    L.push('');
  } else L.push(`_${JSON.stringify(scale ?? 'not run').slice(0, 400)}_`, '');

  if (r.profiles && Object.keys(r.profiles).length) {
    L.push(
      '## Where the gateway spends its CPU (node --cpu-prof, self time inside the measured windows)',
      '',
    );
    for (const [name, p] of Object.entries(r.profiles)) {
      if (name === 'file') continue;
      const s = p as ProfileSummary;
      L.push(`### ${name} (${n(s.sampledMs / 1000, 1)} s sampled, ${n(s.idlePct)} % idle)`, '');
      L.push(
        '| busy time by the nearest package / src file on the stack (who caused it) | ms | % of busy | | self time by module | ms | % of busy |',
        '|---|---|---|---|---|---|---|',
      );
      for (let i = 0; i < 12; i++) {
        const a = s.attributed?.[i];
        const x = s.modules[i];
        if (!a && !x) break;
        L.push(
          `| ${a?.name ?? ''} | ${a?.selfMs ?? ''} | ${a?.pct ?? ''} | | ${x?.name ?? ''} | ${x?.selfMs ?? ''} | ${x?.pct ?? ''} |`,
        );
      }
      L.push('', '| function | where | self ms | % of busy |', '|---|---|---|---|');
      for (const x of s.functions.slice(0, 12)) L.push(`| ${x.name} | ${x.where} | ${x.selfMs} | ${x.pct} |`);
      L.push('');
    }
    if (r.profiles.file)
      L.push(`Profile: \`${String(r.profiles.file)}\` (open in Chrome DevTools → Performance).`, '');
  }
  if (r.findings.length) {
    L.push('## Notes from this run', '');
    for (const f of r.findings) L.push(`- ${f}`);
    L.push('');
  }
  return L.join('\n');
}

// light → dark with the rate: oranges/reds for Parley, blues for raw XMPP
const PARLEY_SHADES = ['#fdae6b', '#ff7f0e', '#d62728', '#7f0000'];
const RAW_SHADES = ['#9ecae1', '#17becf', '#1f77b4', '#08306b'];
const shade = (shades: string[], i: number): string => shades[Math.min(Math.max(0, i), shades.length - 1)]!;

function charts(r: Report, stamp: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lat = r.results.latency as Latency | undefined;
  if (ok(lat)) {
    const rates = [...new Set(lat.points.map((p) => p.rate))].sort((a, b) => a - b);
    const series: Series[] = lat.points
      .filter((p) => p.cdf?.length)
      .map((p) => ({
        name: `${p.system === 'parley' ? 'Parley REST→SSE' : 'raw XMPP'} @ ${p.rate}/s (p50 ${n(p.latency.p50, 2)}, p99 ${n(p.latency.p99, 1)} ms)`,
        points: p.cdf!,
        dashed: p.system !== 'parley',
        color: shade(p.system === 'parley' ? PARLEY_SHADES : RAW_SHADES, rates.indexOf(p.rate)),
      }));
    out[`${stamp}-latency-cdf.svg`] = lineChart({
      title: 'Send → deliver latency (CDF), Prosody',
      subtitle: `${String(r.meta.mode)} run, ${String(r.meta.startedAt).slice(0, 16)} UTC; load avg ${(r.meta.machine.loadavgBefore as number[])[0]}`,
      x: { label: 'latency (ms, log scale)', log: true },
      y: { label: 'fraction of messages delivered', min: 0, max: 1, format: (v) => v.toFixed(1) },
      series,
    });
  }
  const tp = r.results.throughput as Throughput | undefined;
  if (hasCurves(tp)) {
    const all = [...tp.prosody.curves, ...(tp.ejabberd?.curves ?? [])];
    const label = (c: Curve): string => `${c.system} on ${c.server} (sustained ${n(c.sustained, 0)}/s)`;
    out[`${stamp}-throughput.svg`] = lineChart({
      title: 'Throughput: delivered vs offered rate',
      subtitle: 'open-loop steps; dotted diagonal = keeping up',
      x: { label: 'offered rate (msg/s, log scale)', log: true },
      y: { label: 'delivered rate (msg/s, log scale)', log: true },
      diagonal: true,
      series: all.map((c) => ({
        name: label(c),
        points: c.steps.map((s) => [s.rate, s.deliveredRate] as [number, number]),
        markers: true,
        dashed: c.server === 'ejabberd',
      })),
    });
    out[`${stamp}-throughput-p99.svg`] = lineChart({
      title: 'Throughput: p99 latency vs offered rate',
      subtitle: 'a rate is sustained while p99 < 100 ms and nothing is lost',
      x: { label: 'offered rate (msg/s, log scale)', log: true },
      y: { label: 'p99 latency (ms, log scale)', log: true },
      hline: { y: 100, label: 'p99 limit 100 ms' },
      series: all.map((c) => ({
        name: label(c),
        points: c.steps.map((s) => [s.rate, s.latency.p99] as [number, number]),
        markers: true,
        dashed: c.server === 'ejabberd',
      })),
    });
  }
  return out;
}

export async function writeReport(dir: string, startedAt: Date, r: Report): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:]/g, '-').slice(0, 19);
  const svgs = charts(r, stamp);
  const written: string[] = [];
  for (const [name, svg] of Object.entries(svgs)) {
    await writeFile(join(dir, name), svg);
    written.push(join(dir, name));
  }
  const jsonPath = join(dir, `${stamp}.json`);
  await writeFile(
    jsonPath,
    JSON.stringify({ ...r, targets: targets(r), charts: Object.keys(svgs) }, null, 1) + '\n',
  );
  const mdPath = join(dir, `${stamp}.md`);
  await writeFile(mdPath, markdown(r, Object.keys(svgs)) + '\n');
  return [jsonPath, mdPath, ...written];
}
