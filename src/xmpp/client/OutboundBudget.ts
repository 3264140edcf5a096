import { BridgeError } from '../../errors/BridgeError.js';

export interface OutboundLimits {
  /** stanzas one session has handed to the XMPP server that it has not acknowledged yet (XEP-0198) */
  maxPerSession: number;
  /** the same, summed over every session of this instance */
  maxPerInstance: number;
  /** bytes waiting in one session's socket, for a server (or a moment) without XEP-0198 counting */
  maxSessionBytes: number;
}

/** Seconds a refused sender waits: a healthy server drains a full queue well within this. */
export const OUTBOUND_RETRY_AFTER = 1;

/**
 * The backpressure ledger of one instance: each session reports how many of its stanzas are still
 * unacknowledged (its own count changes by deltas, so the instance total costs O(1) per send instead of
 * a walk over every session), and a send is refused *before* anything is stored once a bound is reached.
 * One user past their own bound is their doing (429); the instance past its bound is everyone's (503).
 */
export class OutboundBudget {
  #total = 0;
  constructor(
    readonly limits: OutboundLimits,
    /** told of every refusal (metrics: parley_send_refused_total) */
    private readonly onRefused: (code: 'SEND_QUEUE_FULL' | 'XMPP_BACKLOG') => void = () => undefined,
  ) {}

  get total(): number {
    return this.#total;
  }

  adjust(delta: number): void {
    this.#total = Math.max(0, this.#total + delta);
  }

  /** Throws when one more stanza from a session with `pending` unacked stanzas and `bytes` buffered must wait. */
  check(pending: number, bytes: number): void {
    const l = this.limits;
    if (pending >= l.maxPerSession || bytes >= l.maxSessionBytes) {
      this.onRefused('SEND_QUEUE_FULL');
      throw new BridgeError(
        'SEND_QUEUE_FULL',
        `this session already has ${pending} messages on their way to the XMPP server; retry after the Retry-After seconds`,
        { retryAfter: OUTBOUND_RETRY_AFTER },
      );
    }
    if (this.#total >= l.maxPerInstance) {
      this.onRefused('XMPP_BACKLOG');
      throw new BridgeError(
        'XMPP_BACKLOG',
        'the XMPP server is not keeping up with this gateway; retry after the Retry-After seconds',
        { retryAfter: OUTBOUND_RETRY_AFTER },
      );
    }
  }
}
