/** One XEP-0198 ack request (`<r/>`) a session sent, until the server answers it or the connection ends. */
export interface AckRequest {
  readonly sentAt: number;
  settled: boolean;
}

/** Past this many skipped entries (and half the array), the queue is copied down instead of growing. */
const COMPACT_AFTER = 1024;

/**
 * How far behind the XMPP server is, in time: the age of the oldest ack request it has not answered.
 * The server answers an `<r/>` only after handling every stanza sent before it on that link, so that age
 * is at least how long a stanza sent now waits; a count of unacked stanzas says nothing about time
 * (500 stanzas are 0.1 s to one server and 2 s to another).
 * - Nothing outstanding means 0: the server owes nothing. There is no remembered value to decay, so the
 *   instance cannot stay "refusing" once the server has answered.
 * - A request older than one already answered (sent later, by any session) is left out: then the server
 *   is not behind for everyone, only that link is (one session's own flood, or a dead connection until its
 *   timeout). That session's own wait covers it (SessionBacklog): one dead link cannot pause the instance.
 * Every request of the instance joins one queue in the order sent, so the oldest is at its head: reports
 * are O(1), and skipping the settled or overtaken head is amortized O(1) (each request is passed once).
 */
export class ServerDelay {
  #queue: AckRequest[] = [];
  #head = 0;
  /** send time of the newest request answered so far */
  #answeredUpTo = -Infinity;
  /** when the server last answered any request */
  #lastAnswerAt = -Infinity;

  constructor(readonly now: () => number = () => performance.now()) {}

  request(): AckRequest {
    this.#skip(); // also here, so an instance that never checks a send (no messages) does not accumulate
    const r: AckRequest = { sentAt: this.now(), settled: false };
    this.#queue.push(r);
    return r;
  }

  /** The request's `<a/>` arrived; returns its round trip in ms. */
  answered(r: AckRequest): number {
    r.settled = true;
    if (r.sentAt > this.#answeredUpTo) this.#answeredUpTo = r.sentAt;
    this.#lastAnswerAt = this.now();
    return this.#lastAnswerAt - r.sentAt;
  }

  /** Its connection ended: it will never be answered, and that says nothing about the server. */
  dropped(r: AckRequest): void {
    r.settled = true;
  }

  /** How long a request has been waiting for its answer. */
  age(r: AckRequest): number {
    return this.now() - r.sentAt;
  }

  /** The server's delay now (ms): the age of the oldest request it owes the instance. */
  ms(): number {
    this.#skip();
    const oldest = this.#queue[this.#head];
    return oldest ? this.now() - oldest.sentAt : 0;
  }

  /**
   * Whether the server owes something and has answered nothing, on any link, for at least half of its
   * delay: a pause (a collection of its heap, a moment without a core), not a backlog. A server falling
   * behind keeps answering, late; one that pauses answers nothing, then everything at once.
   */
  stalled(delay = this.ms()): boolean {
    return delay > 0 && this.now() - this.#lastAnswerAt >= delay / 2;
  }

  #skip(): void {
    const q = this.#queue;
    let h = this.#head;
    while (h < q.length && (q[h]!.settled || q[h]!.sentAt < this.#answeredUpTo)) h++;
    if (h === q.length) {
      q.length = 0;
      h = 0;
    } else if (h > COMPACT_AFTER && h * 2 > q.length) {
      this.#queue = q.slice(h);
      h = 0;
    }
    this.#head = h;
  }
}
