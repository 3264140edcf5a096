import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Share of the last sample period the event loop spent busy above which replays hold back. */
export const REPLAY_BUSY_THRESHOLD = 0.6;
const SAMPLE_MS = 50;
/** The longest one replay page waits for a quieter loop: replays slow down under load, never stop. */
const MAX_WAIT_MS = 500;

export interface ReplayPacerOptions {
  threshold?: number;
  sampleMs?: number;
  maxWaitMs?: number;
  /** utilization of the event loop since the previous call (tests pass a scripted one) */
  utilization?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

function loopUtilization(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}

/**
 * Replays yield to live traffic. Replaying history into streams (a reconnect storm, or streams opened from
 * event 0 that never read, a flood's favourite) is bulk work: read, frame, write, hundreds of kilobytes a
 * stream. Run flat out, it takes the event loop from everyone's live messages (issue 21's flood: a normal
 * user's send → deliver p99 went past a second). So before each replayed page, a busy event loop (over
 * REPLAY_BUSY_THRESHOLD since the previous sample, at least sampleMs ago) delays it, up to MAX_WAIT_MS: an
 * idle gateway replays at full speed, a loaded one keeps serving live traffic first and still finishes
 * every replay. The loop is sampled only when a page asks, so a gateway with nothing to pace never wakes
 * for it; after a quiet spell the first sample spans it and lets that page go (one page, not a storm).
 */
export class ReplayPacer {
  readonly #threshold: number;
  readonly #sampleMs: number;
  readonly #maxWaitMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #utilization: () => number;
  readonly #now: () => number;
  #sampledAt = -Infinity;
  #busy = false;

  constructor(opts: ReplayPacerOptions = {}) {
    this.#threshold = opts.threshold ?? REPLAY_BUSY_THRESHOLD;
    this.#sampleMs = opts.sampleMs ?? SAMPLE_MS;
    this.#maxWaitMs = opts.maxWaitMs ?? MAX_WAIT_MS;
    this.#sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#utilization = opts.utilization ?? loopUtilization();
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Was the loop busy at the last sample (taken now when the last one is sampleMs old)? */
  get busy(): boolean {
    const now = this.#now();
    if (now - this.#sampledAt >= this.#sampleMs) {
      this.#busy = this.#utilization() > this.#threshold;
      this.#sampledAt = now;
    }
    return this.#busy;
  }

  /** Resolves when a replayed page may go: at once on a quiet loop, after at most maxWaitMs on a busy one. */
  async turn(): Promise<void> {
    for (let waited = 0; this.busy && waited < this.#maxWaitMs; waited += this.#sampleMs)
      await this.#sleep(this.#sampleMs);
  }
}
