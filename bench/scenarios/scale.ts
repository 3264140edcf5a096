import { meter, overBudget, postgresPid, prosodyPid, skip, waitIdle, type Ctx } from '../lib/context.js';
import { fdLimit, openFds, rssKb } from '../lib/proc.js';
import { elapsed, progress } from '../lib/progress.js';
import { round, type Summary } from '../lib/stats.js';
import { windowEnd, windowStart, type Window } from '../lib/cpuprofile.js';

/**
 * N concurrent users, each an XMPP session held by Parley plus an open SSE stream: login rate,
 * gateway memory per session (RSS growth / N), and delivery latency between random users while all
 * of them are connected. Each size runs on a fresh gateway so its memory baseline is clean.
 */

export interface ScalePoint {
  sessions: number;
  skipped?: string;
  requested?: number;
  note?: string;
  crash?: string;
  settleMs?: { afterLogins: number; afterStreams: number };
  login?: {
    ok: number;
    failed: number;
    perSecond: number;
    latency: Summary;
    firstError?: string;
    timedOut: boolean;
  };
  streams?: { open: number; failed: number; firstError?: string; wallMs: number };
  parleyRssMb?: { before: number; afterLogins: number; after: number };
  kbPerSession?: number;
  /** why kbPerSession is missing (nothing held to divide by) or how it was computed (some streams failed) */
  memoryNote?: string;
  /** the split: an XMPP session alone (after logins), then what its SSE stream adds */
  kbPerXmppSession?: number;
  kbPerStream?: number;
  heapMb?: { before?: number; after?: number };
  heapKbPerSession?: number;
  prosodyRssMb?: { before: number; after: number };
  prosodyKbPerSession?: number;
  /** the gateway's open files at the end, at the start of the point and after the logins; its limit */
  fds?: { parley: number; limit: number; atStart?: number; afterLogins?: number };
  cpuMsPerLogin?: Record<string, number>;
  delivery?: Record<string, unknown>;
}

export async function scaleScenario(
  ctx: Ctx,
  usersFor: (n: number) => Promise<string[]>,
  restart: () => Promise<void>,
  windows: Window[] = [],
  /** the crowd scenario left thousands of sessions on the gateway: start from fresh servers */
  restartFirst = false,
): Promise<ScalePoint[]> {
  const points: ScalePoint[] = [];
  for (const [i, requested] of ctx.opts.sessions.entries()) {
    if (overBudget(ctx, ctx.opts.quick ? 30 : 120)) {
      points.push({
        sessions: requested,
        ...(skip(ctx, 'scale', `${requested} sessions: time budget`) as { skipped: string }),
      });
      continue;
    }
    try {
      if (i > 0 || restartFirst) await restart();
      points.push(await onePoint(ctx, requested, usersFor, i === 0 && !restartFirst ? windows : []));
    } catch (err) {
      const msg = (err as Error).message.split('\n').slice(0, 3).join(' | ');
      progress(`${requested} sessions failed: ${msg}`);
      // if the gateway itself died, its last words are the finding
      const crash =
        ctx.parley.exitCode() !== null
          ? ctx.parley
              .output()
              .split('\n')
              .filter((l) => l && !l.startsWith('{'))
              .slice(-12)
              .join('\n')
          : undefined;
      if (crash) {
        progress(`the gateway exited (${ctx.parley.exitCode()}):\n${crash}`);
        ctx.findings.push(
          `scale ${requested}: the gateway process exited during the run: ${crash.slice(0, 600)}`,
        );
      }
      points.push({
        sessions: requested,
        skipped: `failed: ${msg.slice(0, 500)}`,
        ...(crash ? { crash } : {}),
      });
      await ctx.gen.call('fleetClose').catch(() => undefined);
    }
  }
  return points;
}

/**
 * Open files kept free beyond two per session and what the gateway holds at the start (~25 on a fresh one):
 * the generator's keep-alive HTTP connections (up to 128) and the database pool filling up.
 */
const FD_RESERVE = 160;

/** Quick runs must end within 3 minutes: logins stop early (and say so) when the budget runs out. */
function loginDeadlineMs(ctx: Ctx): number {
  if (!ctx.opts.quick) return 600_000;
  const left = (ctx.budgetS + 15 - elapsed()) * 1000 - 25_000; // streams, probe and report still to come
  return Math.max(10_000, Math.min(40_000, left));
}

async function onePoint(
  ctx: Ctx,
  requested: number,
  usersFor: (n: number) => Promise<string[]>,
  windows: Window[],
): Promise<ScalePoint> {
  // An XMPP socket and an SSE socket per user in the gateway, on top of what it already holds (pools,
  // files: ~25 on a fresh gateway) and the load generator's keep-alive HTTP connections (up to 128). Where
  // the open-files limit cannot be raised (no CAP_SYS_RESOURCE in a container), run as many as it allows
  // and say so. The load generator holds one socket per stream, so its own limit counts too.
  const limit = fdLimit(ctx.parley.pid).soft;
  const genLimit = fdLimit(ctx.gen.pid).soft;
  const fdsAtStart = openFds(ctx.parley.pid);
  const fit = Math.min(Math.floor((limit - fdsAtStart - FD_RESERVE) / 2), genLimit - FD_RESERVE);
  // a size cut by the limit is rounded down to a multiple of 100 (9,900 under the usual 20,000)
  const n = Math.max(0, requested <= fit ? requested : fit >= 100 ? fit - (fit % 100) : fit);
  const reduced =
    n < requested
      ? `${requested} requested; the gateway's open-files limit is ${limit}${fdsAtStart > 100 ? ` and it already held ${fdsAtStart} open files` : ''} (ulimit -n; raising it needs CAP_SYS_RESOURCE), so ${n} were run`
      : undefined;
  if (reduced) {
    progress(reduced);
    ctx.findings.push(`scale: ${reduced}`);
  }
  const users = await usersFor(n);
  await new Promise((r) => setTimeout(r, 1000));
  const pPid = prosodyPid(ctx.prosody);
  const before = {
    parley: ctx.parley.rssKb(),
    prosody: pPid ? rssKb(pPid) : 0,
    heap: await ctx.parley.heap(),
  };
  const m = meter(ctx, 'prosody');
  m.begin();
  progress(`${n} sessions: logging in (concurrency 32)`);
  const login = await ctx.gen.call<NonNullable<ScalePoint['login']>>(
    'fleetLogin',
    { url: ctx.parley.url, users, password: ctx.password, concurrency: 32, deadlineMs: loginDeadlineMs(ctx) },
    900_000,
  );
  const { cpuMs } = m.end();
  if (ctx.parley.exitCode() !== null)
    throw new Error(
      `the gateway exited while ${n} users logged in (${login.ok} ok, ${login.failed} failed: ${login.firstError ?? ''})`,
    );
  if (login.timedOut)
    ctx.findings.push(`scale: logins stopped at ${login.ok} of ${n} (time budget of the quick run)`);
  progress(
    `${login.ok} logged in at ${login.perSecond}/s (p50 ${login.latency.p50} ms, p99 ${login.latency.p99} ms)${login.failed ? `; ${login.failed} failed: ${login.firstError}` : ''}`,
  );
  // Login-time work (carbons, archive catch-up, roster, rooms) keeps the gateway and the XMPP server
  // busy after the last login answered: wait for it (bounded), and report how long it took.
  const pids = [ctx.parley.pid, pPid, postgresPid(ctx.postgres)];
  const settleLogins = await waitIdle(pids, ctx.opts.quick ? 5000 : 120_000, 0.25);
  const afterLogins = ctx.parley.rssKb();
  // Each stream is one more socket in the gateway: past its open-files limit, libuv accepts and at once
  // closes every new connection (its EMFILE fallback), so the streams fail with ECONNRESET. Say so first.
  const fdsAfterLogins = openFds(ctx.parley.pid);
  if (fdsAfterLogins + login.ok > limit) {
    const why = `the gateway holds ${fdsAfterLogins} open files after ${login.ok} logins (limit ${limit}): ${login.ok} SSE streams do not fit, the excess will be reset`;
    progress(why);
    ctx.findings.push(`scale ${n}: ${why}`);
  }
  const streams = await ctx.gen.call<NonNullable<ScalePoint['streams']>>(
    'fleetStreams',
    { concurrency: 64, deadlineMs: 120_000 },
    300_000,
  );
  if (ctx.parley.exitCode() !== null) throw new Error(`the gateway exited while ${n} SSE streams opened`);
  progress(
    `${streams.open} SSE streams open in ${streams.wallMs} ms${streams.failed ? `; ${streams.failed} failed: ${streams.firstError}` : ''}`,
  );
  const settleStreams = await waitIdle(pids, ctx.opts.quick ? 5000 : 60_000, 0.25);
  const after = {
    parley: ctx.parley.rssKb(),
    prosody: pPid ? rssKb(pPid) : 0,
    heap: await ctx.parley.heap(),
  };
  // Memory per session only from what was held: an XMPP session per login, a stream per open stream.
  // No stream open (or no login) means nothing to divide by: not measured, and why.
  const memoryNotMeasured =
    login.ok === 0
      ? `not measured: no user logged in (${login.failed} failed${login.firstError ? `: ${login.firstError}` : ''})`
      : streams.open === 0
        ? `not measured: no SSE stream opened (${streams.failed} failed${streams.firstError ? `: ${streams.firstError}` : ''})`
        : undefined;
  const kbPerXmppSession = login.ok > 0 ? round((afterLogins - before.parley) / login.ok, 1) : undefined;
  const kbPerStream = streams.open > 0 ? round((after.parley - afterLogins) / streams.open, 1) : undefined;
  const partial =
    !memoryNotMeasured && streams.open < login.ok
      ? `${streams.open} of ${login.ok} streams opened: KB/session = XMPP session + SSE stream, each per its own count`
      : undefined;
  const held = Math.min(login.ok, streams.open);
  const point: ScalePoint = {
    sessions: n,
    ...(reduced ? { requested, note: reduced } : {}),
    login,
    streams,
    settleMs: { afterLogins: settleLogins, afterStreams: settleStreams },
    parleyRssMb: {
      before: round(before.parley / 1024, 1),
      afterLogins: round(afterLogins / 1024, 1),
      after: round(after.parley / 1024, 1),
    },
    // with every stream open this is (after − before) / N
    kbPerSession:
      memoryNotMeasured || kbPerXmppSession === undefined || kbPerStream === undefined
        ? undefined
        : round(kbPerXmppSession + kbPerStream, 1),
    kbPerXmppSession,
    kbPerStream,
    ...(memoryNotMeasured ? { memoryNote: memoryNotMeasured } : partial ? { memoryNote: partial } : {}),
    heapMb: {
      before: before.heap && round(before.heap.usedMb, 1),
      after: after.heap && round(after.heap.usedMb, 1),
    },
    heapKbPerSession:
      !memoryNotMeasured && !partial && before.heap && after.heap
        ? round(((after.heap.usedMb - before.heap.usedMb) * 1024) / held, 1)
        : undefined,
    prosodyRssMb: { before: round(before.prosody / 1024, 1), after: round(after.prosody / 1024, 1) },
    // Prosody holds the XMPP sessions (the SSE streams are the gateway's)
    prosodyKbPerSession: login.ok > 0 ? round((after.prosody - before.prosody) / login.ok, 1) : undefined,
    fds: { parley: openFds(ctx.parley.pid), limit, atStart: fdsAtStart, afterLogins: fdsAfterLogins },
    cpuMsPerLogin: Object.fromEntries(
      Object.entries(cpuMs).map(([k, v]) => [k, round(v / Math.max(1, login.ok), 2)]),
    ),
  };
  progress(
    `gateway RSS ${point.parleyRssMb!.before} → ${point.parleyRssMb!.afterLogins} → ${point.parleyRssMb!.after} MB: ${point.kbPerSession === undefined ? `KB/session ${memoryNotMeasured ?? 'not measured'}` : `${point.kbPerSession} KB/session (XMPP session ${point.kbPerXmppSession} + SSE stream ${point.kbPerStream}; heap ${point.heapKbPerSession ?? '?'} KB)${partial ? ` (${partial})` : ''}`}; Prosody ${point.prosodyKbPerSession ?? '?'} KB/session; settled ${settleLogins} + ${settleStreams} ms`,
  );
  if (memoryNotMeasured) ctx.findings.push(`scale ${n}: memory per session ${memoryNotMeasured}`);
  if (streams.open >= 2) {
    const count = ctx.opts.quick ? 200 : 1000;
    progress(`delivery latency among ${streams.open} connected users: ${count} messages at 50/s`);
    m.begin();
    const w = windowStart();
    const d = await ctx.gen.call<{
      latency: Summary;
      ack: Summary;
      sendLag: Summary;
      delivered: number;
      errors: number;
      firstError?: string;
    }>('fleetProbe', { url: ctx.parley.url, tag: `sc${n}`, count, rate: 50, drainMs: 5000 }, 120_000);
    windows.push(windowEnd(w));
    const busy = m.end();
    const pct = (k: string): number => Math.round(((busy.cpuMs[k] ?? 0) / busy.wallMs) * 100);
    point.delivery = {
      ...d,
      parleyCpuPct: pct('parley'),
      prosodyCpuPct: pct('xmppServer'),
      postgresCpuPct: pct('postgres'),
      othersPct: busy.othersPct,
    };
    progress(
      `  p50 ${d.latency.p50} ms  p99 ${d.latency.p99} ms  delivered ${d.delivered}/${count}${d.errors ? `, ${d.errors} refused or failed (first: ${d.firstError?.slice(0, 120)})` : ''} (POST answered p50 ${d.ack.p50} ms; generator lag p99 ${d.sendLag.p99} ms); CPU: gateway ${pct('parley')} %, Prosody ${pct('xmppServer')} %, PostgreSQL ${pct('postgres')} %, other processes ${busy.othersPct} % of the machine`,
    );
  }
  await ctx.gen.call('fleetClose');
  return point;
}
