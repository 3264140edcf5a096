import {
  meter,
  overBudget,
  PARLEY_DB,
  pgStatements,
  postgresPid,
  prosodyPid,
  skip,
  waitIdle,
  type Ctx,
} from '../lib/context.js';
import { fdLimit } from '../lib/proc.js';
import { elapsed, progress } from '../lib/progress.js';
import { round, type Summary } from '../lib/stats.js';
import { startStallProbe, type StallSecond } from '../lib/stallProbe.js';
import type { FleetProbeResult } from '../load/fleet.js';

/**
 * Thousands of users (issue 17 item 6): N users logged in through Parley, each with an open SSE
 * stream; first the CPU all of them cost while idle (gateway, Prosody, PostgreSQL, % of a core), then
 * M of them chat in fixed pairs, each sending 1 msg/s to its partner (M msg/s in all): send → the
 * partner's SSE event, p50/p99, and every message not delivered within the drain counted as lost.
 * Runs on a freshly started gateway and Prosody (restarted when an earlier scenario left sessions),
 * so the idle figure is these users' alone.
 */

export interface CrowdResult {
  users: number;
  requested: number;
  note?: string;
  login: {
    ok: number;
    failed: number;
    perSecond: number;
    latency: Summary;
    firstError?: string;
    timedOut: boolean;
  };
  streams: { open: number; failed: number; wallMs: number; firstError?: string };
  idle: { seconds: number; corePct: Record<string, number>; othersPct: number };
  chat?: {
    chatters: number;
    perChatterPerS: number;
    seconds: number;
    sent: number;
    delivered: number;
    lost: number;
    errors: number;
    firstError?: string;
    latency: Summary;
    ack: Summary;
    sendLag: Summary;
    corePct: Record<string, number>;
    othersPct: number;
    incidents?: { count: number; last?: string };
    /** statements PostgreSQL executed for the gateway's database per delivered message */
    pgStatementsPerMsg?: number;
    /** p99 of the delivered by the second of the chat they were due in */
    bySecond?: { s: number; n: number; p99: number; ackP99?: number }[];
    /** the same chat just before, not in the figures above (the gateway's code was cold) */
    warmup?: {
      seconds: number;
      sent: number;
      delivered: number;
      lost: number;
      errors: number;
      latency: Summary;
    };
    /** the slowest trivial answer of the gateway, Prosody and PostgreSQL in each second (lib/stallProbe.ts) */
    stalls?: StallSecond[];
  };
}

/** what the load generator's fleetProbe answers, with the incidents its worker adds (load/worker.ts) */
type ProbeResult = FleetProbeResult & { incidents?: { count: number; last?: string } };

const pct = (cpuMs: Record<string, number>, wallMs: number): Record<string, number> =>
  Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, round((v / Math.max(1, wallMs)) * 100, 1)]));

export async function crowdScenario(
  ctx: Ctx,
  usersFor: (n: number) => Promise<string[]>,
  restart: () => Promise<void>,
  /** earlier scenarios left sessions on the gateway: restart it and Prosody first */
  needRestart: boolean,
): Promise<CrowdResult | { skipped: string }> {
  const { crowd, crowdChatters, crowdSeconds, crowdWarmSeconds } = ctx.opts;
  if (overBudget(ctx, ctx.opts.quick ? 20 : 120)) return skip(ctx, 'crowd', 'time budget');
  if (needRestart) await restart();
  const limit = fdLimit(ctx.parley.pid).soft;
  const n = Math.min(crowd, Math.floor((limit - 200) / 2));
  const note =
    n < crowd
      ? `${crowd} requested; the gateway's open-files limit is ${limit}, so ${n} were run`
      : undefined;
  if (note) ctx.findings.push(`crowd: ${note}`);
  const users = await usersFor(n);
  progress(`${n} users: logging in (concurrency 32)`);
  const deadlineMs = ctx.opts.quick
    ? Math.max(15_000, Math.min(45_000, (ctx.budgetS + 40 - elapsed()) * 1000))
    : 900_000;
  const login = await ctx.gen.call<CrowdResult['login']>(
    'fleetLogin',
    { url: ctx.parley.url, users, password: ctx.password, concurrency: 32, deadlineMs },
    deadlineMs + 120_000,
  );
  progress(
    `${login.ok} logged in at ${login.perSecond}/s${login.failed ? `; ${login.failed} failed: ${login.firstError}` : ''}${login.timedOut ? ' (stopped: time budget)' : ''}`,
  );
  const streams = await ctx.gen.call<CrowdResult['streams']>(
    'fleetStreams',
    { concurrency: 64, deadlineMs: 120_000 },
    300_000,
  );
  progress(`${streams.open} SSE streams open in ${streams.wallMs} ms`);
  const pids = [ctx.parley.pid, prosodyPid(ctx.prosody), postgresPid(ctx.postgres)];
  await waitIdle(pids, ctx.opts.quick ? 5000 : 60_000, 0.25);
  // Idle: long enough to include XEP-0198's periodic <r/> on every session (30 s) in a full run.
  const idleMs = (ctx.opts.quick ? 8 : 35) * 1000;
  const m = meter(ctx, 'prosody');
  m.begin();
  await new Promise((r) => setTimeout(r, idleMs));
  const idleCpu = m.end();
  const idle = {
    seconds: idleMs / 1000,
    corePct: pct(idleCpu.cpuMs, idleCpu.wallMs),
    othersPct: idleCpu.othersPct,
  };
  progress(
    `idle with ${streams.open} users: gateway ${idle.corePct.parley} %, Prosody ${idle.corePct.xmppServer} %, PostgreSQL ${idle.corePct.postgres} % of a core`,
  );
  const result: CrowdResult = { users: n, requested: crowd, ...(note ? { note } : {}), login, streams, idle };
  const chatters = Math.min(crowdChatters, streams.open) & ~1;
  if (chatters < 2) {
    await ctx.gen.call('fleetClose');
    return result;
  }
  // fixed pairs (0,1), (2,3), …, each direction once per round: every chatter sends 1 msg/s
  const pairs: [number, number][] = [];
  for (let k = 0; k < chatters; k += 2) pairs.push([k, k + 1], [k + 1, k]);
  const count = chatters * crowdSeconds;
  progress(`${chatters} of them chatting in pairs at 1 msg/s each (${chatters} msg/s) for ${crowdSeconds} s`);
  // The gateway was restarted for this scenario and its message path is cold (compiled in the first
  // seconds, bench/JOURNAL.md "The crowd's tail"); a deployment that has been running is not. The same chat
  // runs first for a few seconds, reported apart and counted in "nothing lost".
  const w = await ctx.gen.call<ProbeResult>(
    'fleetProbe',
    {
      url: ctx.parley.url,
      tag: 'cwu',
      count: chatters * crowdWarmSeconds,
      rate: chatters,
      drainMs: 5000,
      pairs,
    },
    crowdWarmSeconds * 1000 + 120_000,
  );
  const warmup = {
    seconds: crowdWarmSeconds,
    sent: w.sent,
    delivered: w.delivered,
    lost: w.sent - w.delivered - w.errors,
    errors: w.errors,
    latency: w.latency,
  };
  progress(`  warm-up: p50 ${w.latency.p50} ms p99 ${w.latency.p99} ms; delivered ${w.delivered}/${w.sent}`);
  const statementsBefore = await pgStatements(ctx, PARLEY_DB.prosody);
  const [probeUser] = await usersFor(1);
  const probe = await startStallProbe({
    gatewayUrl: ctx.parley.url,
    xmpp: {
      service: ctx.prosody.service,
      domain: ctx.prosody.domain,
      username: probeUser!,
      password: ctx.password,
    },
    postgresUrl: ctx.postgres.adminUrl(PARLEY_DB.prosody),
  }).catch((err: Error) => {
    ctx.findings.push(`crowd: the stall probe did not start: ${err.message}`);
    return undefined;
  });
  m.begin();
  const d = await ctx.gen.call<ProbeResult>(
    'fleetProbe',
    { url: ctx.parley.url, tag: 'cw', count, rate: chatters, drainMs: 5000, pairs },
    crowdSeconds * 1000 + 120_000,
  );
  const chatCpu = m.end();
  const stalls = await probe?.stop();
  const statementsAfter = await pgStatements(ctx, PARLEY_DB.prosody);
  result.chat = {
    chatters,
    perChatterPerS: 1,
    seconds: crowdSeconds,
    sent: d.sent,
    delivered: d.delivered,
    lost: d.sent - d.delivered - d.errors,
    errors: d.errors,
    ...(d.firstError ? { firstError: d.firstError } : {}),
    latency: d.latency,
    ack: d.ack,
    sendLag: d.sendLag,
    corePct: pct(chatCpu.cpuMs, chatCpu.wallMs),
    othersPct: chatCpu.othersPct,
    ...(d.incidents ? { incidents: d.incidents } : {}),
    bySecond: d.bySecond,
    warmup,
    ...(stalls ? { stalls } : {}),
    ...(statementsBefore !== undefined && statementsAfter !== undefined && d.delivered > 0
      ? { pgStatementsPerMsg: round((statementsAfter - statementsBefore) / d.delivered, 2) }
      : {}),
  };
  progress(
    `  p50 ${d.latency.p50} ms p99 ${d.latency.p99} ms; delivered ${d.delivered}/${d.sent}${d.errors ? `, ${d.errors} errors (${d.firstError})` : ''}; generator lag p99 ${d.sendLag.p99} ms; CPU gateway ${result.chat.corePct.parley} %, Prosody ${result.chat.corePct.xmppServer} %`,
  );
  await ctx.gen.call('fleetClose');
  return result;
}
