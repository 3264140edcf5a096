import { BridgeError } from '../../errors/BridgeError.js';
import { ServerDelay } from './ServerDelay.js';
import { TransitDelay } from './TransitDelay.js';

export interface OutboundLimits {
  /** stanzas of one session that the XMPP server was asked to acknowledge (XEP-0198 `<r/>`) and has not */
  maxPerSession: number;
  /** the same, summed over every session of this instance */
  maxPerInstance: number;
  /** bytes waiting in one session's socket, for a server (or a moment) without XEP-0198 counting */
  maxSessionBytes: number;
  /** how long the server may leave an ack request unanswered before new sends wait (ServerDelay) */
  maxDelayMs: number;
  /** how long messages between two users of this instance may take to arrive before new sends wait */
  maxTransitMs: number;
  /**
   * how long a server that answers nothing at all (ServerDelay.stalled) may stay silent before new sends
   * wait; up to it, its pause is not taken for a backlog (at or below maxDelayMs: every pause is)
   */
  maxStallMs: number;
}

/** What one session holds of the budget when it asks to send one more message. */
export interface SessionLoad {
  /** its requested-but-unacked stanzas plus its sends admitted and not handed over yet */
  pending: number;
  /** bytes waiting in its socket */
  bytes: number;
  /** how long a message of its would wait at the server now (ms; SessionBacklog.delayMs) */
  delayMs: number;
  /** the part of delayMs its own unacknowledged stanzas make at the server's pace (SessionBacklog.aheadMs) */
  aheadMs?: number;
}

/** Seconds a refused sender waits: a healthy server drains a full queue well within this. */
export const OUTBOUND_RETRY_AFTER = 1;

/**
 * The backpressure ledger of one instance. Sessions report by deltas how many of their stanzas the server
 * was asked to acknowledge and has not, and every ack request and answer (ServerDelay), so each send is
 * checked in O(1), without a walk over every session, and refused *before* anything is stored:
 * - its own session over its count or bytes bound, or its own messages waiting past maxDelayMs while
 *   the server keeps up with the instance: that user's doing (or that link's), 429 SEND_QUEUE_FULL;
 * - the instance over its count bound, the server's delay past maxDelayMs, or the transit of messages
 *   between this instance's users past maxTransitMs: everyone's, 503 XMPP_BACKLOG.
 * The delays are the bound that keeps accepted latency in check; the counts only stop a runaway in volume.
 * A server that answers nothing at all (ServerDelay.stalled: a collection of its heap, ~0.5-1 s with
 * thousands of sessions on Prosody) is waited for up to maxStallMs before its delay refuses anyone, and
 * meanwhile a session is refused only for what its own stanzas make at the server's pace.
 */
export class OutboundBudget {
  #total = 0;
  readonly delay: ServerDelay;
  readonly transit: TransitDelay;

  constructor(
    readonly limits: OutboundLimits,
    /** told of every refusal (metrics: parley_send_refused_total) */
    private readonly onRefused: (code: 'SEND_QUEUE_FULL' | 'XMPP_BACKLOG') => void = () => undefined,
    now?: () => number,
  ) {
    this.delay = new ServerDelay(now);
    this.transit = new TransitDelay(now);
  }

  get total(): number {
    return this.#total;
  }

  /** The server's delay now, in ms (metrics: parley_xmpp_server_delay_seconds). */
  delayMs(): number {
    return this.delay.ms();
  }

  /** Messages between this instance's users, sent to stored, in ms (parley_local_transit_seconds). */
  transitMs(): number {
    return this.transit.ms();
  }

  adjust(delta: number): void {
    this.#total = Math.max(0, this.#total + delta);
  }

  /** Throws when one more message from a session holding `s` must wait. */
  check(s: SessionLoad): void {
    const l = this.limits;
    if (s.pending >= l.maxPerSession || s.bytes >= l.maxSessionBytes)
      this.#refuse(
        'SEND_QUEUE_FULL',
        `this session already has ${s.pending} messages on their way to the XMPP server`,
      );
    if (this.#total >= l.maxPerInstance)
      this.#refuse(
        'XMPP_BACKLOG',
        `${this.#total} stanzas of this gateway await the XMPP server's acknowledgement`,
      );
    const delay = this.delay.ms();
    const stall = delay > l.maxDelayMs && delay <= l.maxStallMs && this.delay.stalled(delay);
    if (delay > l.maxDelayMs && !stall)
      this.#refuse(
        'XMPP_BACKLOG',
        `the XMPP server has left an acknowledgement unanswered for ${Math.round(delay)} ms`,
      );
    const transit = this.transit.ms();
    if (transit > l.maxTransitMs)
      this.#refuse(
        'XMPP_BACKLOG',
        `messages between users of this gateway take ${Math.round(transit)} ms to arrive`,
      );
    const own = stall ? (s.aheadMs ?? 0) : s.delayMs;
    if (own > l.maxDelayMs)
      this.#refuse(
        'SEND_QUEUE_FULL',
        `this session's messages wait ${Math.round(own)} ms at the XMPP server`,
      );
  }

  #refuse(code: 'SEND_QUEUE_FULL' | 'XMPP_BACKLOG', why: string): never {
    this.onRefused(code);
    throw new BridgeError(code, `${why}; retry after the Retry-After seconds`, {
      retryAfter: OUTBOUND_RETRY_AFTER,
    });
  }
}
