/**
 * Named one-shot timers with an injectable clock, so the workgroup's offer, request and rejection
 * timers can be tested without waiting. Deadlines are absolute (ms since the epoch), because they come
 * from Postgres rows after a restart: a deadline already past fires on the next turn of the loop.
 */
import { outsideLogContext } from '../log.js';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    // A timer armed while handling a request fires long after it: its lines must not carry that requestId.
    const t = outsideLogContext(() => setTimeout(fn, ms));
    t.unref?.(); // a pending offer must not keep a stopping process alive
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Node caps timers at 2^31-1 ms; longer deadlines re-arm when that much has passed. */
const MAX_DELAY = 2_147_483_647;

export class TimerSet {
  readonly #timers = new Map<string, { at: number; handle: unknown }>();
  constructor(private readonly clock: Clock = systemClock) {}

  /** Arms (or re-arms) `key` to run `fn` at `at`; replaces an earlier timer of the same key. */
  set(key: string, at: number, fn: () => void): void {
    this.clear(key);
    const delay = Math.max(0, at - this.clock.now());
    const handle = this.clock.setTimeout(
      () => {
        if (this.#timers.get(key)?.handle !== handle) return;
        this.#timers.delete(key);
        if (at - this.clock.now() > 0)
          this.set(key, at, fn); // woke early after a capped delay
        else fn();
      },
      Math.min(delay, MAX_DELAY),
    );
    this.#timers.set(key, { at, handle });
  }

  /** Arms `key` unless it is already armed for the same time or earlier (wake-ups keep the soonest). */
  setEarliest(key: string, at: number, fn: () => void): void {
    const current = this.#timers.get(key);
    if (current && current.at <= at) return;
    this.set(key, at, fn);
  }

  clear(key: string): void {
    const t = this.#timers.get(key);
    if (!t) return;
    this.clock.clearTimeout(t.handle);
    this.#timers.delete(key);
  }

  has(key: string): boolean {
    return this.#timers.has(key);
  }
  deadline(key: string): number | undefined {
    return this.#timers.get(key)?.at;
  }
  get size(): number {
    return this.#timers.size;
  }

  clearAll(): void {
    for (const t of this.#timers.values()) this.clock.clearTimeout(t.handle);
    this.#timers.clear();
  }
}
