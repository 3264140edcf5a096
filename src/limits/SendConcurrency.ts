import { BridgeError } from '../errors/BridgeError.js';

export interface SendConcurrencyOptions {
  /**
   * How long a send may stay in the gateway (from the door to its answer) as the *shortest* of an
   * interval's sends before the instance takes fewer at once (PARLEY_SEND_TARGET_MS; 0: no bound).
   */
  targetMs: number;
  /** the window whose shortest send is judged (default: 100 ms, or twice the target if longer) */
  intervalMs?: number;
  /** the bound never falls below this many sends at once (default 16) */
  min?: number;
  /** nor rises above this (default 1,024); it starts there */
  max?: number;
  now?: () => number;
  /** told of every refusal (metrics: parley_send_refused_total{code}) */
  onRefused?: (code: 'SEND_QUEUE_FULL' | 'GATEWAY_BUSY') => void;
}

/** Seconds a refused sender waits: the bound adapts within a few intervals. */
export const BUSY_RETRY_AFTER = 1;

/**
 * Past the bound, a session may still have this many sends in progress: a user at a human pace rarely has a
 * second one out, a flood has dozens.
 */
const SESSION_SHARE = 2;

/**
 * Intervals in a row over the target that make a standing queue. Fewer are a pause: a stall of the machine or
 * of a collection holds every send back for one and lengthens the next (then the bound halved for a sender
 * keeping up at 1,000 a second, and refused it while it caught up).
 */
const STANDING = 3;

/** An interval with a standing wait keeps at least this share of the sends it had at once. */
const MAX_DECREASE = 0.5;

/**
 * The sends this instance works on at once, bounded adaptively by how long they take (AIMD with CoDel's
 * test for a standing queue). The other bounds (OutboundBudget) see the XMPP server; none saw the gateway
 * itself: past the knee its own event loop saturates, every request waits for the ones ahead of it, and
 * the accepted messages' latency grew to seconds while the server kept up (bench/JOURNAL.md, "The knee's
 * wait is before the 201"). A fixed threshold on the loop's utilization refused at rates the gateway
 * sustains (on shared cores a loop is busy while preempted); the time sends take is the measure that
 * counts, and Little's law ties it to how many are taken at once.
 *
 * Each interval, the shortest time a send took from the door to its answer is compared with the target: a
 * burst lengthens some sends, a standing queue every one. When even the shortest is over the target (or
 * nothing finished in a whole interval with sends in progress) in three intervals in a row — fewer are a
 * pause, a collection or a stall of the machine — the bound becomes the most sends that were in progress at once,
 * times target / shortest (at least half of it); while under it and the bound was reached, it grows by an
 * eighth (at least one).
 *
 * Past the bound the heaviest senders are refused first: a session that already has SESSION_SHARE sends in
 * progress gets 429 SEND_QUEUE_FULL (with Retry-After), at the door, before its token, body or route is
 * looked at, which keeps refusing much cheaper than serving; a session with fewer is still taken, up to
 * `max` sends in all (then 503 GATEWAY_BUSY). Refusing everyone over the bound refused users chatting at a
 * human pace among 5,000 (a machine that is saturated but keeping up makes every send slower, not more
 * numerous), while what floods a gateway past its knee is sessions with dozens of sends out. Only sends
 * whose answer waits on this instance's own work (a 1:1 message is answered once stored) are counted: a room
 * post waits for the room's echo from the server.
 */
export class SendConcurrency {
  readonly #target: number;
  readonly #interval: number;
  readonly #min: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #onRefused: (code: 'SEND_QUEUE_FULL' | 'GATEWAY_BUSY') => void;
  /** sends in progress per session that has any */
  readonly #bySession = new Map<unknown, number>();
  #limit: number;
  #inFlight = 0;
  #windowStart: number;
  /** the shortest send that finished in this window (Infinity: none yet) */
  #windowMin = Infinity;
  /** the most sends in progress at once in this window */
  #windowPeak = 0;
  /** how many windows in a row, up to the last, were over the target */
  #overRun = 0;

  constructor(o: SendConcurrencyOptions) {
    this.#target = o.targetMs;
    this.#interval = o.intervalMs ?? Math.max(100, 2 * o.targetMs);
    this.#min = o.min ?? 16;
    this.#max = o.max ?? 1024;
    this.#now = o.now ?? (() => performance.now());
    this.#onRefused = o.onRefused ?? (() => undefined);
    this.#limit = this.#max;
    this.#windowStart = this.#now();
  }

  /** the current bound on sends at once */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Takes one place for a send of `session` or throws: past the bound, 429 SEND_QUEUE_FULL when that
   * session already has SESSION_SHARE sends in progress; 503 GATEWAY_BUSY past `max` whoever sends. The returned
   * function gives the place back when the send has its answer (once; later calls do nothing).
   */
  acquire(session: unknown): () => void {
    const now = this.#now();
    this.#judge(now);
    const own = this.#bySession.get(session) ?? 0;
    if (this.#refuses(own)) this.#refuse(own);
    this.#inFlight++;
    this.#bySession.set(session, own + 1);
    if (this.#inFlight > this.#windowPeak) this.#windowPeak = this.#inFlight;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      const left = this.#bySession.get(session)! - 1;
      if (left) this.#bySession.set(session, left);
      else this.#bySession.delete(session);
      const end = this.#now();
      const took = end - now;
      if (took < this.#windowMin) this.#windowMin = took;
      this.#judge(end);
    };
  }

  /**
   * Throws what acquire would for `session` now, taking no place: the server's request listener asks this
   * before a request reaches Koa (http/earlyRefusals.ts), so most refusals cost no more than Node's parser.
   */
  check(session: unknown): void {
    this.#judge(this.#now());
    const own = this.#bySession.get(session) ?? 0;
    if (this.#refuses(own)) this.#refuse(own);
  }

  #refuses(own: number): boolean {
    return this.#inFlight >= this.#max || (own >= SESSION_SHARE && this.#inFlight >= this.limit);
  }

  #refuse(own: number): never {
    this.#windowPeak = Math.max(this.#windowPeak, this.#inFlight + 1);
    const code = this.#inFlight >= this.#max ? 'GATEWAY_BUSY' : 'SEND_QUEUE_FULL';
    const why = `this gateway is working on ${this.#inFlight} sends, ${code === 'GATEWAY_BUSY' ? 'all it takes' : 'its current bound'}`;
    this.#onRefused(code);
    throw new BridgeError(
      code,
      code === 'SEND_QUEUE_FULL'
        ? `${why}, ${own} of them this session's; retry after the Retry-After seconds`
        : `${why}; retry after the Retry-After seconds`,
      { retryAfter: BUSY_RETRY_AFTER },
    );
  }

  /** Closes the window if it ended by `now` (with the silent ones after it) and adjusts the bound once. */
  #judge(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < this.#interval) return;
    const busy = this.#windowPeak > 0;
    // Nothing finished in a whole window while sends were in progress: they all waited longer than it.
    const shortest = this.#windowMin === Infinity ? (this.#inFlight > 0 ? elapsed : 0) : this.#windowMin;
    const over = busy && shortest > this.#target;
    // Judged only when a send starts or ends: the intervals that passed since without either, with sends in
    // progress, were each one in which nothing finished.
    const silent = this.#inFlight > 0 ? Math.floor(elapsed / this.#interval) - 1 : 0;
    this.#overRun = over ? this.#overRun + 1 + silent : silent;
    const standing = this.#overRun >= STANDING;
    if (standing) {
      // From what was really in progress (the bound may sit far above it), in proportion to the overshoot.
      // The silent intervals count at their length: a quick send early in the window says nothing of them.
      const waited = Math.max(over ? shortest : 0, silent * this.#interval);
      const kept = Math.min(1, Math.max(MAX_DECREASE, this.#target / waited));
      this.#limit = Math.max(this.#min, Math.min(this.#limit, this.#windowPeak) * kept);
    } else if (!over && busy && this.#windowPeak >= this.limit)
      this.#limit = Math.min(this.#max, this.#limit + Math.max(1, this.#limit / 8));
    this.#windowStart = now;
    this.#windowMin = Infinity;
    this.#windowPeak = this.#inFlight;
  }
}
