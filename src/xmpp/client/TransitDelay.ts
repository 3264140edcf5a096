/** Without a message arriving for this long, the estimate is forgotten (0): nothing says the path is slow. */
const IDLE_MS = 1000;
/** A message not arrived after this long is taken as lost (its recipient left, or blocked the sender). */
const LOST_MS = 10_000;
/** Each arrival moves the estimate this fraction of the way (an EWMA over ~4 messages). */
const SMOOTHING = 4;

/**
 * How long a message between two users of this instance takes now: from its stanza going out of the
 * sender's session to the recipient's copy being stored. That is the whole path — the XMPP server's input
 * and output, this gateway's reading and handling, the group commit — where ServerDelay sees only the
 * first part (a server acknowledges a stanza once it has routed it, not once the recipient has it). With
 * the gateway and the server sharing a saturated machine the backlog built on the receiving side: the
 * bench's knee at 4× the sustained rate delivered at p50 2 s while the acks came back in time.
 * - The estimate learns only from messages that arrived (an EWMA), so one that never does cannot keep the
 *   instance refusing; without an arrival for IDLE_MS it is 0.
 * - It is 0 as soon as nothing is in flight: once a backlog has drained, sends are taken at once instead
 *   of waiting out the slow transits of its last messages. A message sent before one that has arrived
 *   no longer counts as in flight (overtaken: lost, or about to arrive), nor does one older than LOST_MS.
 * The in-flight set is a Map in send order, so the oldest is at its head and trimming it is amortized O(1).
 */
export class TransitDelay {
  readonly #inFlight = new Map<string, number>();
  #estimate = 0;
  #lastArrival = -Infinity;
  /** send time of the newest message that arrived */
  #arrivedUpTo = -Infinity;

  constructor(
    readonly now: () => number = () => performance.now(),
    readonly maxInFlight = 10_000,
  ) {}

  /** A message to a user of this instance is going out now (`id`: its stanza id, unique). */
  sent(id: string): void {
    if (this.#inFlight.size >= this.maxInFlight) {
      const oldest = this.#inFlight.keys().next();
      if (!oldest.done) this.#inFlight.delete(oldest.value);
    }
    this.#inFlight.set(id, this.now());
  }

  /** A user of this instance has stored a message: its transit in ms, when this instance sent it. */
  arrived(id: string): number | undefined {
    const at = this.#inFlight.get(id);
    if (at === undefined) return undefined;
    this.#inFlight.delete(id);
    const now = this.now();
    const ms = now - at;
    const fresh = now - this.#lastArrival > IDLE_MS;
    this.#estimate = fresh ? ms : this.#estimate + (ms - this.#estimate) / SMOOTHING;
    this.#lastArrival = now;
    if (at > this.#arrivedUpTo) this.#arrivedUpTo = at;
    return ms;
  }

  /** The transit now (ms). */
  ms(): number {
    const now = this.now();
    const cutoff = Math.max(this.#arrivedUpTo, now - LOST_MS);
    for (const [id, at] of this.#inFlight) {
      if (at >= cutoff) break;
      this.#inFlight.delete(id);
    }
    if (this.#inFlight.size === 0 || now - this.#lastArrival > IDLE_MS) return 0;
    return this.#estimate;
  }

  /** messages counted as in flight (after the last trim) */
  get inFlight(): number {
    return this.#inFlight.size;
  }
}
