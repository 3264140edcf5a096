import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { overBudget, skip, type Ctx } from '../lib/context.js';
import { windowEnd, windowStart, type Window } from '../lib/cpuprofile.js';
import { progress } from '../lib/progress.js';
import { round, type Summary } from '../lib/stats.js';
import { startWorker } from '../lib/worker.js';
import type { StepResult } from '../load/rate.js';
import type { FloodResult } from '../load/flood.js';

/**
 * Issue 21's limits under load, measured as deployed: the gateway in its own process, the flood from a
 * load-generator process of its own, a normal user's messages from another. For 8 s (20 s in a full run):
 * ~200 visitor requests/s to two workgroups, ~100 wrong passwords/s, 1,000 event streams that never read
 * (400 of them replaying a 500-event history of 1 KiB events from 0, 600 visitors' streams), while the
 * normal user sends 20 msg/s to another user's stream. Target: that user's send → deliver p99 < 200 ms,
 * every message delivered, the gateway's memory bounded. The same probe without the flood is the baseline.
 */

export interface FloodScenarioResult {
  seconds: number;
  quiet: { latency: Summary; delivered: number; sent: number };
  flooded: { latency: Summary; delivered: number; sent: number; refused: number; errors: number };
  flood: FloodResult;
  gatewayRssMb: { before: number; peak: number; after: number };
}

const HISTORY_USERS = 40;
const HISTORY_EVENTS = 500;

export async function floodScenario(
  ctx: Ctx,
  usersFor: (n: number) => Promise<string[]>,
  dbUrl: string,
  windows?: Window[],
): Promise<FloodScenarioResult | { skipped: string }> {
  if (overBudget(ctx, ctx.opts.quick ? 30 : 90)) return skip(ctx, 'flood', 'time budget');
  const seconds = ctx.opts.quick ? 8 : 20;
  const [a, b, victim, ...hist] = await usersFor(3 + HISTORY_USERS);
  const url = ctx.parley.url;
  const probeId = 'flood-probe';
  await ctx.gen.call('driver', {
    id: probeId,
    kind: 'parley',
    config: {
      tag: 'fl',
      url,
      domain: ctx.prosody.domain,
      tx: { username: a, password: ctx.password },
      rx: { via: 'parley', username: b, password: ctx.password },
    },
  });
  const step = (durationMs: number) =>
    ctx.gen.call<StepResult>('step', { id: probeId, spec: { rate: 20, durationMs, drainMs: 5000 } }, 120_000);
  progress('the normal user alone: 20 msg/s');
  const quiet = await step(4000);

  // History replayed into streams that never read: 40 users × 10 streams, from event 0.
  const historyStreams: string[] = [];
  for (const username of hist) {
    const r = await fetch(`${url}/restapi/v1/chat/${username}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ password: ctx.password }),
    });
    if (r.status !== 201) throw new Error(`login of ${username} → ${r.status} ${await r.text()}`);
    const l = (await r.json()) as { events: string; token: string };
    const u = new URL(l.events);
    u.searchParams.set('token', l.token);
    u.searchParams.set('lastEventId', '0');
    for (let i = 0; i < 10; i++) historyStreams.push(u.toString());
  }
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO events (username, name, payload)
       SELECT u, 'chatapi.chat', jsonb_build_object('type', 'chat', 'direction', 'in', 'from', 'h@' || $3::text,
         'to', u || '@' || $3::text, 'body', i::text || repeat('x', 1024))
       FROM unnest($1::text[]) AS u, generate_series(1, $2::int) AS i`,
      [hist, HISTORY_EVENTS, ctx.prosody.domain],
    );
  } finally {
    await db.end();
  }
  const workgroups = [0, 1].map(() => `wg-${randomBytes(3).toString('hex')}`);
  for (const name of workgroups) {
    const r = await fetch(`${url}/restapi/v1/ask/admin`, {
      method: 'POST',
      headers: { Authorization: ctx.secret, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (r.status !== 201) throw new Error(`workgroup ${name} → ${r.status} ${await r.text()}`);
  }

  const flooder = await startWorker('flood', { heapMb: 1024 });
  const rss = { before: ctx.parley.rssKb(), peak: 0, after: 0 };
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, ctx.parley.rssKb())), 200);
  try {
    progress(`flood for ${seconds} s: 200 asks/s, 100 wrong passwords/s, 1,000 streams that never read`);
    const durationMs = seconds * 1000;
    const w = windowStart();
    const [flood, flooded] = await Promise.all([
      flooder.call<FloodResult>(
        'flood',
        {
          url,
          durationMs,
          workgroups,
          asksPerS: 200,
          wrongPasswordsPerS: 100,
          victim,
          historyStreams,
          visitors: 60,
          streamsPerVisitor: 11,
        },
        durationMs + 180_000,
      ),
      step(durationMs),
    ]);
    windows?.push(windowEnd(w));
    rss.after = ctx.parley.rssKb();
    const mb = (kb: number) => round(kb / 1024, 0);
    const result: FloodScenarioResult = {
      seconds,
      quiet: { latency: quiet.latency, delivered: quiet.delivered, sent: quiet.sent },
      flooded: {
        latency: flooded.latency,
        delivered: flooded.delivered,
        sent: flooded.sent,
        refused: flooded.refused,
        errors: flooded.sendErrors,
      },
      flood,
      gatewayRssMb: { before: mb(rss.before), peak: mb(rss.peak), after: mb(rss.after) },
    };
    progress(
      `  normal user: p50 ${flooded.latency.p50} p99 ${flooded.latency.p99} ms (alone: p99 ${quiet.latency.p99} ms), delivered ${flooded.delivered}/${flooded.sent}; flood ${JSON.stringify(flood)}; gateway RSS ${result.gatewayRssMb.before} → ${result.gatewayRssMb.peak} MB`,
    );
    return result;
  } finally {
    clearInterval(sampler);
    await flooder.call('floodClose').catch(() => undefined);
    await flooder.stop().catch(() => undefined);
    await ctx.gen.call('closeDriver', { id: probeId }, 15_000).catch(() => undefined);
  }
}
