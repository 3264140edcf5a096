import type { DeliveredEvent } from './events.js';

/**
 * Keeps each user's durable events in id order on their way to the streams, with none skipped.
 *
 * Event ids come from one sequence, drawn inside statements and transactions that commit in any order:
 * a send's transaction draws its id, then waits for the XMPP write before COMMIT, while a receipt for the
 * same user draws a higher id and commits first. A stream sends each user's events in id order and
 * drops what is not newer than the last id it sent (that is how the replay → live seam avoids doubles,
 * and the client's Last-Event-ID is a high-water mark), so the lower id arriving second would be lost.
 *
 * Writes stay concurrent; only the hand-over waits. An event goes out once every write for that user
 * that began before the event was stored has been delivered or given up: a write that begins later
 * draws its id later, so it can only get a higher one. Completed events wait sorted by id.
 * The order holds for the writes of this instance (a user's session, hence its writes, lives on one).
 */

/** A write stuck this long (a hung statement, a socket that stopped draining) stops holding the others back. */
export const STALL_MS = 5000;

interface Held {
  event: DeliveredEvent;
  start: number;
  barrier: number;
}
interface UserState {
  /** writes begun whose event has not reached deliver() yet (nor were they given up) → when they began */
  unresolved: Map<number, number>;
  /** event id → its write, between the write's completion and the caller's deliver() */
  stored: Map<string, { start: number; barrier: number }>;
  held: Held[];
  waiters: { mark: number; resolve: () => void }[];
}

const byId = (a: Held, b: Held): number => {
  const x = BigInt(a.event.id!),
    y = BigInt(b.event.id!);
  return x < y ? -1 : x > y ? 1 : 0;
};

export class DeliveryOrder {
  /** one counter for all users: marks taken for settled() stay comparable when a user's state is dropped */
  #next = 0;
  readonly #users = new Map<string, UserState>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: (username: string, event: DeliveredEvent) => void,
    private readonly stallMs = STALL_MS,
  ) {}

  /** Wraps a write that stores one event of `username` (or none: a duplicate); the caller delivers it right after. */
  async write<T extends { id: string } | undefined>(username: string, fn: () => Promise<T>): Promise<T> {
    const start = this.#next++;
    const st = this.#state(username);
    st.unresolved.set(start, Date.now());
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.#resolve(username, st, start);
      throw err;
    }
    if (!result) {
      this.#resolve(username, st, start);
      return result;
    }
    const id = result.id;
    st.stored.set(id, { start, barrier: this.#next });
    // Callers deliver in the same tick as the write resolves; one that never does must not stall the user.
    setImmediate(() => {
      if (st.stored.delete(id)) this.#resolve(username, st, start);
    });
    return result;
  }

  deliver(username: string, event: DeliveredEvent): void {
    const st = this.#users.get(username);
    if (event.id === undefined || !st) {
      this.out(username, event);
      return;
    }
    const w = st.stored.get(event.id);
    if (w) {
      st.stored.delete(event.id);
      st.unresolved.delete(w.start);
    }
    // An event this instance did not track waits for every write in flight: its id may be any.
    st.held.push({ event, start: w?.start ?? -1, barrier: w?.barrier ?? this.#next });
    st.held.sort(byId);
    this.#flush(username, st);
    if (st.held.length && !this.#sweeper) {
      this.#sweeper = setInterval(() => this.#sweep(), Math.max(10, this.stallMs / 5));
      this.#sweeper.unref();
    }
  }

  /** A position in the order of writes: settled() waits for the writes of the user begun before it. */
  mark(): number {
    return this.#next;
  }

  /** Resolves once every write of `username` begun before `mark` has been delivered or given up. */
  settled(username: string, mark: number): Promise<void> {
    const st = this.#users.get(username);
    if (!st || this.#isSettled(st, mark)) return Promise.resolve();
    return new Promise((resolve) => st.waiters.push({ mark, resolve }));
  }

  #state(username: string): UserState {
    let st = this.#users.get(username);
    if (!st)
      this.#users.set(username, (st = { unresolved: new Map(), stored: new Map(), held: [], waiters: [] }));
    return st;
  }

  #resolve(username: string, st: UserState, start: number): void {
    st.unresolved.delete(start);
    this.#flush(username, st);
  }

  #flush(username: string, st: UserState): void {
    let oldest = Infinity;
    for (const s of st.unresolved.keys()) if (s < oldest) oldest = s;
    while (st.held.length && st.held[0]!.barrier <= oldest) this.out(username, st.held.shift()!.event);
    if (st.waiters.length) {
      const waiting = st.waiters;
      st.waiters = [];
      for (const w of waiting) {
        if (this.#isSettled(st, w.mark)) w.resolve();
        else st.waiters.push(w);
      }
    }
    if (
      !st.unresolved.size &&
      !st.held.length &&
      !st.stored.size &&
      !st.waiters.length &&
      this.#users.get(username) === st
    )
      this.#users.delete(username);
  }

  #isSettled(st: UserState, mark: number): boolean {
    for (const s of st.unresolved.keys()) if (s < mark) return false;
    return !st.held.some((h) => h.start < mark);
  }

  /**
   * Gives up on stalled writes that hold events back. Should one complete after all, its event goes out
   * late, and streams already past its id skip it (as every out-of-order event was skipped before this class).
   */
  #sweep(): void {
    const stalledSince = Date.now() - this.stallMs;
    let holding = false;
    for (const [username, st] of this.#users) {
      if (!st.held.length) continue;
      for (const [start, began] of st.unresolved) if (began <= stalledSince) st.unresolved.delete(start);
      this.#flush(username, st);
      holding ||= st.held.length > 0;
    }
    if (!holding) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
