import type { Log } from '../log.js';

/**
 * The one serial lane every routing change runs through: one change at a time, in arrival order, so
 * racing changes (an accept against its offer's timer) have exactly one winner.
 */
export class Lane {
  #tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly log: Log) {}

  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Work nobody awaits (timers, IQ outcomes): a failure (say, the database is down) is logged, never thrown. */
  background(work: Promise<unknown>, what: string): void {
    work.catch((err: unknown) => this.log.warn({ err }, `workgroup ${what} failed`));
  }

  /** Resolves once nothing is running or queued in the lane (shutdown: before the pool closes). */
  async drain(): Promise<void> {
    for (let tail = this.#tail; ; tail = this.#tail) {
      await tail;
      if (tail === this.#tail) return;
    }
  }
}
