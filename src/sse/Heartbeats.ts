/** One interval's heartbeats: the streams share a timer, and their beats are spread over the interval. */
export interface Beating {
  beat(): void;
}

export interface HeartbeatTimers {
  every(fn: () => void, ms: number): { unref?(): void };
  clear(handle: unknown): void;
  /** the next turn, between chunks of writes */
  soon(fn: () => void): void;
}

const realTimers: HeartbeatTimers = {
  every: (fn, ms) => setInterval(fn, ms),
  clear: (h) => clearInterval(h as NodeJS.Timeout),
  soon: (fn) => void setImmediate(fn),
};

/** One slice of the streams per this many ms. */
const SLICE_MS = 1000;
/** Writes in one turn: a beat of 5,000 streams at once held the event loop for ~100 ms. */
const CHUNK = 100;

/**
 * Every stream gets a comment once per `ms` so proxies keep idle streams open. Streams are dealt round-robin
 * into one slice per second of the interval and a timer beats one slice per second, a hundred writes per
 * turn: with 5,000 streams and a 15 s interval that is ~330 writes a second in turns of 100, where one
 * timer writing to all of them at once held the event loop for ~100 ms every 15 s (the CPU profile of the
 * crowd scenario at rest, bench/JOURNAL.md "The gateway at rest").
 */
export class Heartbeats<T extends Beating> {
  readonly #slices: Set<T>[];
  readonly #sliceOf = new Map<T, number>();
  #dealt = 0;
  #cursor = 0;
  #timer: unknown;

  constructor(
    private readonly ms: number,
    private readonly timers: HeartbeatTimers = realTimers,
  ) {
    const n = Math.max(1, Math.round(ms / SLICE_MS));
    this.#slices = Array.from({ length: n }, () => new Set<T>());
  }

  get size(): number {
    return this.#sliceOf.size;
  }

  add(stream: T): void {
    if (this.#sliceOf.has(stream)) return;
    const i = this.#dealt++ % this.#slices.length;
    this.#slices[i]!.add(stream);
    this.#sliceOf.set(stream, i);
    if (this.#timer === undefined) {
      const t = this.timers.every(() => this.tick(), this.ms / this.#slices.length);
      t.unref?.();
      this.#timer = t;
    }
  }

  /** Removes the stream; true when that left no stream (the timer is stopped). */
  delete(stream: T): boolean {
    const i = this.#sliceOf.get(stream);
    if (i === undefined) return false; // not here (removed twice): nothing changed
    this.#slices[i]!.delete(stream);
    this.#sliceOf.delete(stream);
    if (this.size > 0) return false;
    this.timers.clear(this.#timer);
    this.#timer = undefined;
    return true;
  }

  /** Beats the next slice (the timer calls it; exposed for tests). */
  tick(): void {
    const slice = [...this.#slices[this.#cursor]!];
    this.#cursor = (this.#cursor + 1) % this.#slices.length;
    const from = (start: number): void => {
      const end = Math.min(slice.length, start + CHUNK);
      for (let k = start; k < end; k++) {
        const s = slice[k]!;
        if (this.#sliceOf.has(s)) s.beat(); // closed since the slice was taken: skip
      }
      if (end < slice.length) this.timers.soon(() => from(end));
    };
    from(0);
  }
}
