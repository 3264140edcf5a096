import type { FloodScenarioResult } from '../scenarios/flood.js';

/** Issue 21's figure: a normal user's send → deliver p99 while strangers flood the gateway. */
export const FLOOD_P99_LIMIT_MS = 200;

const n = (x: number | undefined, d = 1): string =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en', { maximumFractionDigits: d });

const measured = (v: unknown): v is FloodScenarioResult =>
  !!v && typeof v === 'object' && 'flooded' in (v as object);

export function floodTarget(
  v: unknown,
): { target: string; measured: string; status: 'met' | 'not met' } | undefined {
  if (!measured(v)) return undefined;
  const f = v.flooded;
  const lost = f.sent - f.delivered;
  return {
    target: `during a flood (asks, wrong passwords, 1,000 streams that never read): a normal user's send → deliver p99 < ${FLOOD_P99_LIMIT_MS} ms, nothing lost, memory bounded`,
    measured: `p99 ${n(f.latency.p99)} ms (alone ${n(v.quiet.latency.p99)} ms), ${n(lost, 0)} of ${n(f.sent, 0)} not delivered, ${n(f.refused + f.errors, 0)} refused or failed; gateway RSS ${v.gatewayRssMb.before} → ${v.gatewayRssMb.peak} MB`,
    status:
      f.latency.p99 < FLOOD_P99_LIMIT_MS && lost === 0 && f.refused + f.errors === 0 ? 'met' : 'not met',
  };
}

export function floodSection(v: unknown): string[] {
  const L = ['## Flood: the gateway stays responsive for everyone else (issue 21)', ''];
  if (!measured(v)) return [...L, `_${JSON.stringify(v ?? 'not run').slice(0, 400)}_`, ''];
  const x = v.flood;
  L.push(
    `For ${v.seconds} s, from a load-generator process of its own: visitor requests at 200/s to two workgroups (${n(x.asked, 0)} admitted, ${n(x.askRefused, 0)} refused with 429), wrong passwords at 100/s (${n(x.wrong, 0)} checked and refused with 401, ${n(x.throttled, 0)} held back with 429), event streams that never read (${n(x.streamsOpen, 0)} open, of them 400 replaying 500 events of 1 KiB from 0; ${n(x.streamRefused, 0)} refused over a cap)${x.other ? `; ${x.other} other answers, first: ${x.firstOther ?? ''}` : ''}. Meanwhile a normal user sends 20 msg/s to another user's stream.`,
    '',
    '| the normal user | sent | delivered | p50 ms | p99 ms | max ms |',
    '|---|---|---|---|---|---|',
    `| alone | ${v.quiet.sent} | ${v.quiet.delivered} | ${n(v.quiet.latency.p50)} | ${n(v.quiet.latency.p99)} | ${n(v.quiet.latency.max)} |`,
    `| during the flood | ${v.flooded.sent} | ${v.flooded.delivered} | ${n(v.flooded.latency.p50)} | ${n(v.flooded.latency.p99)} | ${n(v.flooded.latency.max)} |`,
    '',
    `Gateway RSS: ${v.gatewayRssMb.before} MB before, ${v.gatewayRssMb.peak} MB at the peak, ${v.gatewayRssMb.after} MB at the end (every stream still open).`,
    '',
  );
  return L;
}
