/**
 * Runs tasks for the same key one after another (tasks for different keys run freely). A call is
 * changed by REST actions, by its own user's stanzas and by its ring timer; serialising them per call
 * keeps "read state → send stanza → store" atomic on this instance, where the user's session lives.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    // Forget the key once nothing else queued behind this task, so the map does not grow with every call.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  get size(): number {
    return this.#tails.size;
  }
}
