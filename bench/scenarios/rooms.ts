import { meter, overBudget, skip, type Ctx } from '../lib/context.js';
import { progress } from '../lib/progress.js';
import type { Summary } from '../lib/stats.js';
import { windowEnd, windowStart, type Window } from '../lib/cpuprofile.js';

/**
 * Room fan-out: 100 Parley users join one room (each its own XMPP session and SSE stream); one of
 * them posts; the time until every stream has the message. Each occupant's copy is stored for that
 * occupant before it is pushed, so this is 100 inserts per message behind one POST.
 */
export async function roomsScenario(
  ctx: Ctx,
  users: string[],
  windows: Window[] = [],
): Promise<Record<string, unknown>> {
  const url = ctx.parley.url;
  const room = `benchroom${Date.now() % 1_000_000}`;
  progress(`logging in ${users.length} occupants`);
  const login = await ctx.gen.call<{ ok: number; failed: number; firstError?: string; perSecond: number }>(
    'fleetLogin',
    { url, users, password: ctx.password, concurrency: 16, deadlineMs: 60_000 },
    120_000,
  );
  if (login.ok < users.length) progress(`only ${login.ok} logged in: ${login.firstError ?? ''}`);
  const streams = await ctx.gen.call<{ open: number }>(
    'fleetStreams',
    { concurrency: 32, deadlineMs: 30_000 },
    60_000,
  );
  progress(`${streams.open} streams open; joining ${room}`);
  const join = await ctx.gen.call<{
    joined: number;
    failed: number;
    firstError?: string;
    available: boolean;
    latency: Summary;
    wallMs: number;
  }>('roomJoin', { url, room, concurrency: 8 }, 180_000);
  if (!join.available) {
    await ctx.gen.call('fleetClose');
    return skip(ctx, 'rooms', `rooms API not available (${join.firstError ?? 'no answer'})`);
  }
  progress(
    `${join.joined} joined in ${join.wallMs} ms (p50 ${join.latency.p50} ms per join)${join.failed ? `; ${join.failed} failed: ${join.firstError}` : ''}`,
  );
  if (overBudget(ctx, 5)) {
    await ctx.gen.call('fleetClose');
    return { ...skip(ctx, 'rooms', 'time budget'), join };
  }
  await new Promise((r) => setTimeout(r, 1000)); // occupants' presence events settle
  const m = meter(ctx, 'prosody');
  m.begin();
  const w = windowStart();
  const fan = await ctx.gen.call<
    Record<string, unknown> & { complete: number; messages: number; all: Summary; median: Summary }
  >(
    'roomFanout',
    { url, room, tag: 'rm', count: ctx.opts.roomMessages, gapMs: 300, timeoutMs: 10_000 },
    300_000,
  );
  windows.push(windowEnd(w));
  const { cpuMs } = m.end();
  progress(
    `fan-out to ${streams.open}: all streams p50 ${fan.all.p50} ms p99 ${fan.all.p99} ms; median stream p50 ${fan.median.p50} ms (${fan.complete}/${fan.messages} complete)`,
  );
  await ctx.gen.call('fleetClose');
  return {
    occupants: join.joined,
    streams: streams.open,
    login,
    join,
    fanout: fan,
    cpuMsPerPost: Object.fromEntries(
      Object.entries(cpuMs).map(([k, v]) => [k, Math.round(v / Math.max(1, fan.messages))]),
    ),
  };
}
