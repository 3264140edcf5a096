/**
 * Group commit: writes that arrive while the database is busy go out together, as one statement.
 *
 * The first write waits only for the end of the current event-loop turn (setImmediate, not a timer), so a
 * lone write goes out at once and everything the same turn brought (many sessions' stanzas are read in
 * one poll phase) joins it. While `maxInFlight` batches are out, new writes queue; each batch that comes
 * back sends what queued meanwhile. At low load that is one write per statement as before; under load the
 * statements per write fall as the queue fills.
 *
 * With `gatherMs`, while writes arrive so often that at least one more is due within `gatherMs` (judged by
 * the last 100 ms), the first of a batch waits that long for company instead of going out at the end of the
 * turn: a statement costs PostgreSQL about as much as four rows, and each one wakes a backend (bench/JOURNAL.md,
 * "... and what a statement costs"). Below that rate nothing waits, so a quiet system keeps its latency.
 *
 * A batch that fails is retried write by write (`writeOne`, in order), so one bad row fails only its
 * own caller.
 * Results are handed back in the order the writes were added.
 */
export interface GroupCommitOptions<I, O> {
  /** writes every item in one statement; one result per item, in the same order */
  writeBatch(items: readonly I[]): Promise<O[]>;
  /** writes one item alone: batches of one, and each item of a batch that failed */
  writeOne(item: I): Promise<O>;
  /** the most items per statement (bounds statement size and parameter arrays) */
  maxBatch?: number;
  /** batches out at once: the rest wait, and grow, meanwhile */
  maxInFlight?: number;
  /** while busy, how long the first write of a batch waits for more (0, the default: never) */
  gatherMs?: number;
  /** the clock for gatherMs (ms; performance.now() by default) */
  now?(): number;
  /**
   * Items with the same key never share a batch (one statement cannot apply two changes to one row),
   * nor go out while a batch holding that key is in flight: a later one waits, in arrival order.
   */
  key?(item: I): string;
  /**
   * Items with the same order key may share a batch, in arrival order, but never go out while a batch
   * holding that key is in flight: a later one waits for the next batch. Concurrent batches draw their ids
   * in any order, so this keeps one owner's rows in the order they were added (a session's stanzas
   * handled without waiting for each write: StanzaRouter's deferred work).
   */
  orderKey?(item: I): string | undefined;
}

interface Pending<I, O> {
  item: I;
  resolve(out: O): void;
  reject(err: unknown): void;
}

const RATE_WINDOW_MS = 100;

export class GroupCommit<I, O> {
  readonly #queue: Pending<I, O>[] = [];
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  #inFlight = 0;
  /** keys of the items in flight (only with `key`) */
  readonly #busy = new Set<string>();
  /** order keys of the items in flight (only with `orderKey`) */
  readonly #ordered = new Set<string>();
  #scheduled = false;
  readonly #gatherMs: number;
  readonly #now: () => number;
  /** writes added in the current and in the previous window of RATE_WINDOW_MS, for gatherMs */
  #windowStart = -Infinity;
  #inWindow = 0;
  #lastWindow = 0;
  readonly #go = (): void => {
    this.#scheduled = false;
    this.#pump();
  };

  constructor(private readonly opts: GroupCommitOptions<I, O>) {
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 100);
    this.#maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
    this.#gatherMs = Math.max(0, opts.gatherMs ?? 0);
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Every batch allowed is out: a new write waits for one of them to come back. */
  get saturated(): boolean {
    return this.#inFlight >= this.#maxInFlight;
  }

  /** Writes `item` with whatever else is waiting; resolves with its own result. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      const busy = this.#gatherMs > 0 && this.#frequent();
      if (this.#scheduled) return;
      this.#scheduled = true;
      if (busy) setTimeout(this.#go, this.#gatherMs);
      else setImmediate(this.#go);
    });
  }

  /** Counts this write; true while the last window's rate brings at least one more within gatherMs. */
  #frequent(): boolean {
    const now = this.#now();
    if (now - this.#windowStart >= RATE_WINDOW_MS) {
      // a window with no write in it at all ends the busy spell
      this.#lastWindow = now - this.#windowStart < 2 * RATE_WINDOW_MS ? this.#inWindow : 0;
      this.#inWindow = 0;
      this.#windowStart = now;
    }
    this.#inWindow++;
    return this.#lastWindow * this.#gatherMs >= RATE_WINDOW_MS;
  }

  #pump(): void {
    while (this.#queue.length && this.#inFlight < this.#maxInFlight) {
      const batch = this.#take();
      if (!batch.length) return; // all that waits has its key in flight
      this.#inFlight++;
      void this.#send(batch).finally(() => {
        this.#inFlight--;
        const { key, orderKey } = this.opts;
        for (const p of batch) {
          if (key) this.#busy.delete(key(p.item));
          const o = orderKey?.(p.item);
          if (o !== undefined) this.#ordered.delete(o);
        }
        this.#pump();
      });
    }
  }

  #take(): Pending<I, O>[] {
    const { key, orderKey } = this.opts;
    if (!key && !orderKey) return this.#queue.splice(0, this.#maxBatch);
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    const taken = new Set<string>();
    const held = new Set<string>();
    for (const p of this.#queue) {
      const k = key?.(p.item);
      const o = orderKey?.(p.item);
      const free =
        batch.length < this.#maxBatch &&
        (k === undefined || !this.#busy.has(k)) &&
        (o === undefined || (!this.#ordered.has(o) && !held.has(o)));
      if (free) {
        if (k !== undefined) this.#busy.add(k);
        if (o !== undefined) taken.add(o);
        batch.push(p);
      } else {
        rest.push(p);
        if (o !== undefined) held.add(o); // a later item of that key must not overtake this one
      }
    }
    for (const o of taken) this.#ordered.add(o);
    this.#queue.splice(0, this.#queue.length, ...rest);
    return batch;
  }

  async #send(batch: Pending<I, O>[]): Promise<void> {
    if (batch.length > 1) {
      let results: O[] | undefined;
      try {
        results = await this.opts.writeBatch(batch.map((p) => p.item));
        if (results.length !== batch.length) throw new Error('group commit: one result per item expected');
      } catch {
        results = undefined; // fall through: each alone, so only the bad one fails
      }
      if (results) {
        batch.forEach((p, i) => p.resolve(results[i]!));
        return;
      }
    }
    // One after the other: ids are drawn in arrival order here too (a user's events keep their order).
    for (const p of batch) {
      try {
        p.resolve(await this.opts.writeOne(p.item));
      } catch (err) {
        p.reject(err);
      }
    }
  }
}
