import { postgresPid, prosodyPid, type Ctx } from '../lib/context.js';
import { progress } from '../lib/progress.js';
import { measure, type Curve } from './throughput.js';

/**
 * Backpressure past the knee (issue 17, "What must not get worse"): Parley offered more than it can
 * deliver must refuse the excess (429 SEND_QUEUE_FULL / 503 XMPP_BACKLOG with Retry-After) instead of
 * answering 201 for messages that then wait seconds. Open-loop steps at multiples of Parley's sustained
 * rate, without the rate engine's own backlog stop, so what bounds the backlog is Parley's: per step,
 * offered vs accepted (201) vs refused vs delivered per second, and the latency of what was accepted.
 * The knee holds when, past it, delivered stays near the ceiling, nothing accepted is lost and p99 stays
 * bounded: Parley refuses once the XMPP server leaves an ack request on the sender's link unanswered
 * longer than PARLEY_SEND_MAX_DELAY_MS (250 ms; before that bound in time, 500 unacked stanzas were ~2 s),
 * or once messages between its users take twice that from sending to stored (the backlog further on,
 * Prosody to the recipient's session and the recipient's store, that the first bound does not see).
 * `--knee-base` fixes the rate the steps are multiples of, so two runs of an A/B offer the same load.
 */

export interface Knee {
  /** Parley's sustained rate the multiples are of */
  base: number;
  curve: Curve;
}

export async function kneeSweep(ctx: Ctx, users: [string, string], parley: Curve | undefined): Promise<Knee> {
  const base = ctx.opts.kneeBase ?? Math.max(20, parley?.sustained || parley?.probe.rate || 100);
  const multiples = ctx.opts.quick ? [1, 2, 4] : [0.5, 1, 1.5, 2, 3, 4];
  const rates = multiples.map((m) => Math.round(base * m));
  // long enough for the excess to fill a session's queue (500 stanzas) at 4× a ~200 msg/s ceiling
  const stepMs = Math.max(ctx.opts.stepMs, 3000);
  progress(`knee: Parley at ${rates.join(', ')} msg/s (× its sustained ${base} msg/s)`);
  const curve = await measure(
    ctx,
    {
      id: 'tp-knee',
      kind: 'parley',
      config: {
        tag: 'tk',
        url: ctx.parley.url,
        domain: ctx.prosody.domain,
        tx: { username: users[0], password: ctx.password },
        rx: { via: 'parley', username: users[1], password: ctx.password },
      },
    },
    {
      name: 'Parley past the knee',
      server: 'prosody',
      path: 'REST → store → Prosody → store → SSE',
      driver: 'HTTP + SSE',
      pids: [ctx.parley.pid, prosodyPid(ctx.prosody), postgresPid(ctx.postgres)],
      rates,
      // every message of the step is offered: only Parley's own bounds may hold the backlog
      maxInFlight: (rate) => Math.ceil((rate * stepMs) / 1000) + 1,
      stepMs,
      // what was accepted behind a full queue (PARLEY_SEND_QUEUE_SESSION stanzas) still arrives, late
      drainMs: Math.max(ctx.opts.drainMs, 5000),
    },
  );
  return { base, curve };
}
