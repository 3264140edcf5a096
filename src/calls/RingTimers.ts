/**
 * One timer per unanswered call: when it fires, the call ends as missed. Cleared as soon as the call is
 * answered or ended. In memory only: after a restart CallEngine.sweep() ends what the timers would have.
 */
export class RingTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  set(key: string, ms: number, fire: () => void): void {
    this.clear(key);
    const t = setTimeout(
      () => {
        this.#timers.delete(key);
        fire();
      },
      Math.max(0, ms),
    );
    t.unref(); // a ringing call must not keep the process alive on shutdown
    this.#timers.set(key, t);
  }

  clear(key: string): void {
    const t = this.#timers.get(key);
    if (t) clearTimeout(t);
    this.#timers.delete(key);
  }

  clearAll(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  get size(): number {
    return this.#timers.size;
  }
}
