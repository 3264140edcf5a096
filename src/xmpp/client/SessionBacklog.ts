import type { EventEmitter } from 'node:events';
import xml, { type Element } from '@xmpp/xml';
import type { BridgeError } from '../../errors/BridgeError.js';
import { NS } from '../ns.js';
import type { AckBatch } from './ackPolicy.js';
import type { OutboundBudget } from './OutboundBudget.js';
import type { AckRequest } from './ServerDelay.js';

/** The parts of @xmpp/stream-management's state that tell what the server has not acknowledged yet. */
export interface SmState extends EventEmitter {
  enabled: boolean;
  enableSent: boolean;
  outbound_q: unknown[];
}

/** Each measured time per stanza moves the estimate this fraction of the way (an EWMA over ~4 answers). */
const PACE_SMOOTHING = 4;

/** What the backlog needs of a client built by createXmppClient. */
export interface BacklogClient extends EventEmitter {
  send(el: Element): Promise<void>;
  socket?: { writableLength?: number } | null;
  streamManagement?: SmState;
  ackBatch?: AckBatch;
}

/** the backlog each client (and its XEP-0198 state) belongs to, for the shared listeners */
const backlogOf = new WeakMap<object, SessionBacklog>();

/**
 * One session's share of the instance's backpressure ledger (OutboundBudget): how many of its stanzas the
 * server was asked to acknowledge and has not, and how long its ack requests wait for their answers.
 * Stanzas still awaiting the next batched `<r/>` (ackPolicy.ts) are not counted: the policy holds up to
 * 19 per session unacked on purpose, so counting them would trip the instance bound on a healthy server
 * with a few hundred users chatting. Each request is timed from the moment it is handed to the connection
 * (so time spent in the socket's buffer counts) and matched to the server's answers in order: a server
 * answers every `<r/>` with one `<a/>`, in order (XEP-0198 §4).
 */
export class SessionBacklog {
  /** this connection's requests still unanswered, oldest first */
  readonly #requests: AckRequest[] = [];
  /** this session's share of the instance's count, as last reported */
  #counted = 0;
  /** sends admitted whose stanza has not been handed to the connection yet */
  #admitted = 0;
  #ended = false;
  /** the client's send before this wrapped it (called with the client as `this`) */
  readonly #ownSend: BacklogClient['send'];
  /** the server's time per stanza of this link (ms), measured while it had them queued (0: not yet) */
  #perStanzaMs = 0;
  /** the previous answer on this connection: when, and the count `h` it acknowledged */
  #lastAnswer: { at: number; h: number } | undefined;

  constructor(
    private readonly x: BacklogClient,
    private readonly budget: OutboundBudget,
  ) {
    this.#ownSend = x.send;
    backlogOf.set(x, this);
    x.send = SessionBacklog.#send;
    x.on('send', SessionBacklog.#onSend);
    x.on('element', SessionBacklog.#onElement);
    x.on('disconnect', SessionBacklog.#onDisconnect);
    const sm = x.streamManagement;
    if (sm) {
      backlogOf.set(sm, this);
      sm.on('ack', SessionBacklog.#recountOf);
      sm.on('fail', SessionBacklog.#recountOf);
      sm.on('resumed', SessionBacklog.#recountOf);
    }
  }

  // Functions shared by every session (their `this` is the client or its XEP-0198 state), not closures per
  // session: 10,000 sessions is the goal (bench/JOURNAL.md, "Memory at 10,000 sessions").
  static #send(this: BacklogClient, el: Element): Promise<void> {
    const b = backlogOf.get(this)!;
    if (el.is('r', NS.sm)) b.#requests.push(b.budget.delay.request());
    return b.#ownSend.call(this, el);
  }
  /** The count grows when a request goes out (what it covers is now owed) and shrinks with each ack. */
  static #onSend(this: object, el: Element): void {
    if (el.is('r', NS.sm)) backlogOf.get(this)?.recount();
  }
  /**
   * An unsolicited <a/> (allowed, though Prosody and ejabberd send none) would end a request early, an
   * underestimate that never leaves one waiting forever.
   */
  static #onElement(this: object, el: Element): void {
    if (!el.is('a', NS.sm)) return;
    const b = backlogOf.get(this);
    const answered = b && b.#requests.shift();
    if (answered) b.#timeAnswer(answered, Number(el.attrs.h));
  }
  /** A request of a closed connection is never answered (a resumed stream acks by <resumed h/>). */
  static #onDisconnect(this: object): void {
    const b = backlogOf.get(this);
    if (!b) return;
    for (const r of b.#requests.splice(0)) b.budget.delay.dropped(r);
    b.#lastAnswer = undefined;
    b.recount();
  }
  static #recountOf(this: object): void {
    backlogOf.get(this)?.recount();
  }

  /** Stanzas the server was asked to acknowledge and has not (0 where XEP-0198 is not in use). */
  get requested(): number {
    const sm = this.x.streamManagement;
    if (this.#ended || !sm || !(sm.enabled || sm.enableSent)) return 0;
    return Math.max(0, sm.outbound_q.length - (this.x.ackBatch?.unrequested ?? 0));
  }

  /**
   * How long a message of this session would wait at the server now (ms; 0 while it owes nothing): the
   * age of the oldest unanswered request, or what is unacknowledged at the server's measured time per
   * stanza, whichever is longer. The age alone lags: by the time a request is `bound` ms old, a sender
   * at k times the server's pace has added k × bound of work behind it, and that is what a message accepted
   * then waits. The count at the measured pace is that work (held-back stanzas included: under load they
   * are queued, and at a user's pace they add a few ms). Only while a request is open, so a pace measured
   * on a busy server never refuses a session whose every request was answered.
   */
  get delayMs(): number {
    const oldest = this.#requests[0];
    return oldest ? Math.max(this.budget.delay.age(oldest), this.aheadMs) : 0;
  }

  /** The unacknowledged stanzas at the server's measured pace (ms), while a request is open. */
  get aheadMs(): number {
    if (!this.#requests.length) return 0;
    const ahead = (this.x.streamManagement?.outbound_q.length ?? 0) + this.#admitted;
    return ahead * this.#perStanzaMs;
  }

  #timeAnswer(answered: AckRequest, h: number): void {
    const delay = this.budget.delay;
    delay.answered(answered);
    const at = delay.now();
    const prev = this.#lastAnswer;
    // The server worked on this link without a pause between two answers only if this request was sent
    // before the previous answer came: then every stanza it covers was waiting, and the time between the
    // answers over the stanzas they acknowledged is the server's time per stanza (its other work included).
    if (prev && answered.sentAt < prev.at && h > prev.h) {
      const sample = (at - prev.at) / (h - prev.h);
      this.#perStanzaMs += this.#perStanzaMs ? (sample - this.#perStanzaMs) / PACE_SMOOTHING : sample;
    }
    this.#lastAnswer = { at, h };
  }

  recount(): void {
    const now = this.requested;
    this.budget.adjust(now - this.#counted);
    this.#counted = now;
  }

  /**
   * Throws (429/503, see OutboundBudget.check) when one more message would be refused now, admitting
   * nothing: the HTTP layer refuses with it before it reads a request (http/middleware/shedSends.ts).
   */
  check(): void {
    const budget = this.budget;
    try {
      budget.check({
        pending: this.#counted + this.#admitted,
        bytes: this.x.socket?.writableLength ?? 0,
        delayMs: this.delayMs,
        aheadMs: this.aheadMs,
      });
    } catch (err) {
      // The instance's delay falls only when the server answers something: a refused session that owes
      // nothing asks, so refusals never outlast the server's delay (e.g. when the only request still
      // open is a dead link's, and every other session's sends are refused).
      if (
        (err as BridgeError).code === 'XMPP_BACKLOG' &&
        !this.#requests.length &&
        this.x.streamManagement?.enabled
      )
        this.x.send(xml('r', { xmlns: NS.sm })).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Admits one message or throws (429/503, see check). An admitted send holds its place in
   * both count bounds until the returned release is called (once its stanza was handed over, or it failed),
   * so concurrent requests cannot all slip past the same free place.
   */
  admit(): () => void {
    const budget = this.budget;
    this.check();
    this.#admitted++;
    budget.adjust(1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#admitted--;
      budget.adjust(-1);
    };
  }

  /** The session ended: it holds nothing of the instance's budget any more. */
  end(): void {
    this.#ended = true;
    for (const r of this.#requests.splice(0)) this.budget.delay.dropped(r);
    this.recount();
  }
}
