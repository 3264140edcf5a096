import { cdf, round, summarize, type Summary } from '../lib/stats.js';
import { isRefused, type Driver } from './drivers.js';

/**
 * Open-loop load at a fixed rate: message i is due at start + i/rate whether or not earlier ones
 * were answered, and its latency counts from when it was due (no coordinated omission: a stalled
 * gateway shows up as latency, not as a lower offered rate).
 */

export interface StepSpec {
  rate: number;
  durationMs: number;
  drainMs: number;
  keepCdf?: boolean;
  /**
   * Stop sending once this many messages are outstanding (sent, neither delivered nor failed): an
   * overloaded system otherwise queues a backlog that takes longer to drain than the step took, and
   * spills into the next measurement. Default max(50, 0.3 s worth of messages).
   */
  maxInFlight?: number;
}

export interface StepResult {
  rate: number;
  durationMs: number;
  sent: number;
  accepted: number;
  /** sends the system declined with a backpressure answer (429/503): not errors, not lost */
  refused: number;
  /** sends that failed otherwise (refused ones not included) */
  sendErrors: number;
  delivered: number;
  lost: number;
  /** rate the sender managed to issue (below `rate` only if the generator itself fell behind) */
  offeredRate: number;
  /** accepted (2xx) and refused (429/503) sends per second of the sending window */
  acceptedRate: number;
  refusedRate: number;
  /** delivered messages / (last delivery − first send) */
  deliveredRate: number;
  latency: Summary;
  /** sender-side acknowledgement (HTTP 2xx / stanza written) */
  ack: Summary;
  cdf?: [number, number][];
  firstError?: string;
  /** set when sending stopped early because the backlog passed maxInFlight (the rest count as lost) */
  aborted?: string;
  /** errors the load generator survived during the step (filled in by the worker) */
  incidents?: { count: number; last?: string };
}

let nextSeq = 1;

export async function runStep(driver: Driver, spec: StepSpec): Promise<StepResult> {
  const n = Math.max(1, Math.round((spec.rate * spec.durationMs) / 1000));
  const base = nextSeq;
  nextSeq += n + 1;
  const due = new Float64Array(n);
  const got = new Uint8Array(n);
  const lat: number[] = [];
  const ack: number[] = [];
  let errors = 0;
  let refused = 0;
  let accepted = 0;
  let firstError: string | undefined;
  let lastDelivery = 0;
  driver.onDelivered = (seq, at) => {
    const i = seq - base;
    if (i < 0 || i >= n || got[i] || due[i] === 0) return;
    got[i] = 1;
    lat.push(at - due[i]!);
    lastDelivery = at;
  };
  const start = performance.now() + 2;
  let sent = 0;
  let aborted: string | undefined;
  const maxInFlight = spec.maxInFlight ?? Math.max(50, Math.round(spec.rate * 0.3));
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const outstanding = sent - lat.length - errors - refused;
      if (outstanding > maxInFlight) {
        aborted = `stopped after ${Math.round(now - start)} ms: ${outstanding} messages outstanding (limit ${maxInFlight})`;
        resolve();
        return;
      }
      const dueCount = Math.min(n, Math.floor(((now - start) * spec.rate) / 1000) + 1);
      while (sent < dueCount) {
        const i = sent++;
        const t = start + (i * 1000) / spec.rate;
        due[i] = t;
        let sending: Promise<void>;
        try {
          sending = driver.send(base + i);
        } catch (err) {
          sending = Promise.reject(err as Error);
        }
        sending.then(
          () => {
            accepted++;
            ack.push(performance.now() - t);
          },
          (err: unknown) => {
            if (isRefused(err)) refused++;
            else errors++;
            firstError ??= String((err as Error)?.message ?? err);
          },
        );
      }
      if (sent >= n) resolve();
      else setTimeout(tick, 1);
    };
    setTimeout(tick, 2);
  });
  const sendEnd = performance.now();
  const drainUntil = sendEnd + spec.drainMs;
  while (lat.length + errors + refused < sent && performance.now() < drainUntil)
    await new Promise((r) => setTimeout(r, 5));
  driver.onDelivered = () => undefined;
  const firstDue = start;
  const span = (lastDelivery || performance.now()) - firstDue;
  const sendingMs = Math.max(1, sendEnd - firstDue);
  return {
    rate: spec.rate,
    durationMs: spec.durationMs,
    sent,
    accepted,
    refused,
    sendErrors: errors,
    delivered: lat.length,
    lost: n - lat.length - errors - refused,
    offeredRate: round((sent * 1000) / sendingMs, 1),
    acceptedRate: round((accepted * 1000) / sendingMs, 1),
    refusedRate: round((refused * 1000) / sendingMs, 1),
    deliveredRate: round((lat.length * 1000) / Math.max(1, span), 1),
    latency: summarize(lat),
    ack: summarize(ack),
    ...(spec.keepCdf ? { cdf: cdf(lat) } : {}),
    ...(firstError ? { firstError } : {}),
    ...(aborted ? { aborted } : {}),
  };
}

/**
 * How long the closed-loop probe waits before refilling a place whose send was refused (429/503): the
 * answer's Retry-After with up to 20 % jitter, as the API asks of clients (docs/api/chat.md), else this.
 * Refilling every 50 ms whatever the answer said made 64 places a storm of ~2,500 refused requests a
 * second, whose handling took the gateway's CPU from the messages it had accepted: the probe measured
 * that storm (41 msg/s) instead of the gateway's ceiling.
 */
const REFUSED_PAUSE_MS = 50;
const pauseAfter = (err: unknown): number => {
  const s = (err as { retryAfterS?: number }).retryAfterS;
  return s === undefined ? REFUSED_PAUSE_MS : s * 1000 * (1 + Math.random() * 0.2);
};

/**
 * Closed loop with `window` messages in flight (the recipe's baseline method): a quick estimate of
 * the ceiling, used to place the open-loop steps of the throughput curve around it.
 */
export async function probe(
  driver: Driver,
  window: number,
  durationMs: number,
): Promise<{ rate: number; delivered: number; errors: number }> {
  const base = nextSeq;
  nextSeq += 10_000_000;
  let inFlight = 0;
  let delivered = 0;
  let errors = 0;
  let seq = base;
  let stop = false;
  const seen = new Set<number>();
  const t0 = performance.now();
  let tEnd = t0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!stop && inFlight < window) {
        inFlight++;
        let sending: Promise<void>;
        try {
          sending = driver.send(seq++);
        } catch (err) {
          sending = Promise.reject(err as Error);
        }
        sending.catch((err: unknown) => {
          inFlight--;
          // A backpressure answer is the system at its ceiling, not a failure: refill the window a moment
          // later instead of counting errors (51 quick refusals used to end the probe with a rate
          // computed over no time at all).
          if (isRefused(err)) {
            if (!stop) setTimeout(pump, pauseAfter(err));
            return;
          }
          errors++;
          if (errors > 50) {
            stop = true;
            tEnd = performance.now();
            resolve();
          } else pump();
        });
      }
    };
    driver.onDelivered = (s) => {
      if (s < base || seen.has(s)) return;
      seen.add(s);
      inFlight--;
      delivered++;
      if (performance.now() - t0 >= durationMs) {
        if (!stop) {
          stop = true;
          tEnd = performance.now();
          resolve();
        }
        return;
      }
      pump();
    };
    pump();
    setTimeout(() => {
      if (!stop) {
        stop = true;
        tEnd = performance.now();
        resolve();
      }
    }, durationMs * 3);
  });
  // let the window drain so the next step starts from an empty pipe
  const until = performance.now() + 3000;
  while (inFlight > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  driver.onDelivered = () => undefined;
  return { rate: round((delivered * 1000) / Math.max(1, tEnd - t0), 1), delivered, errors };
}
