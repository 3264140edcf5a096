import type { Log } from '../log.js';
import type { EventHub } from '../sse/EventHub.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import { step, type CallInput, type Step } from './callState.js';
import type { CallStore, NewCall, Written } from './CallStore.js';
import { buildJmi } from './jmi.js';
import { KeyedLock } from './KeyedLock.js';
import { callEvent, type EventCause } from './payloads.js';
import { RingTimers } from './RingTimers.js';
import type { Call, CallEventType } from './types.js';

export interface EngineDeps {
  store: CallStore;
  hub: Pick<EventHub, 'ordered' | 'deliver'>;
  sessions: Pick<SessionManager, 'byUser'>;
  log: Log;
  /** PARLEY_CALL_RING_SECONDS in ms */
  ringMs: number;
}

/** Sends the stanza that goes with a change (inside the transaction: a failed send stores nothing). */
export type Send = (prev: Call, input: CallInput) => Promise<void>;
export interface Advanced {
  call: Call;
  step: Step;
}

/**
 * A callee-side call ends as missed this long after the ring window, unless the caller's retract came
 * first: the caller decides when to give up (XEP-0353), this only closes calls whose caller vanished.
 */
export const CALLEE_GRACE_MS = 5000;

/**
 * Applies the call state machine: every change is stored with its `chatapi.call` event, delivered to
 * all of the owner's streams, and keeps the ring timer in step. One call's changes run one at a time.
 */
export class CallEngine {
  readonly #lock = new KeyedLock();
  readonly #timers = new RingTimers();
  #sweeper: NodeJS.Timeout | undefined;
  constructor(private readonly deps: EngineDeps) {}

  /**
   * Records a new call and rings for `ringMs` (nothing rings for a call created ended, e.g. a proposal
   * that waited in offline storage too long). `initiator`: this session proposed it, so it retracts on
   * timeout. Undefined when the owner already has this call.
   */
  async open(
    c: NewCall,
    cause: EventCause,
    opts: { ringMs: number; initiator: boolean; send?: () => Promise<void> },
  ): Promise<Call | undefined> {
    return this.#lock.run(keyOf(c.owner, c.callId), async () => {
      const type: CallEventType = c.state === 'ended' ? 'ended' : 'requested';
      const written = await this.#ordered(c.owner, () =>
        this.deps.store.create(c, (call) => callEvent(type, call, cause), opts.send),
      );
      if (!written) return undefined;
      this.deps.hub.deliver(c.owner, written.event);
      if (written.call.state !== 'ended') this.#ring(written.call, opts.ringMs, opts.initiator);
      return written.call;
    });
  }

  /**
   * Applies `inputOf(call)` (undefined: not for this call, ignore) to the owner's call. Undefined when
   * the owner has no such call; an invalid step comes back unapplied for the caller to judge.
   */
  async advance(
    owner: string,
    callId: string,
    inputOf: (call: Call) => CallInput | undefined,
    opts: { cause?: EventCause; answeredBy?: string; send?: Send } = {},
  ): Promise<Advanced | undefined> {
    return this.#lock.run(keyOf(owner, callId), async () => {
      const call = await this.deps.store.get(owner, callId);
      if (!call) return undefined;
      const input = inputOf(call);
      if (!input) return { call, step: { kind: 'invalid', why: 'not from a party of this call' } };
      const s = step(call.state, input);
      if (s.kind !== 'change') return { call, step: s };
      const reason = input.reason;
      const written = await this.#ordered(owner, () =>
        this.deps.store.update(
          owner,
          callId,
          call.state,
          {
            state: s.state,
            outcome: s.outcome,
            condition: reason?.condition,
            reason: reason?.text,
            answered: s.answered,
            answeredBy: s.answered ? opts.answeredBy : undefined,
            ended: s.state === 'ended',
          },
          (next) => callEvent(s.event, next, opts.cause),
          opts.send && (() => opts.send!(call, input)),
        ),
      );
      if (!written)
        return {
          call: (await this.deps.store.get(owner, callId)) ?? call,
          step: { kind: 'invalid', why: 'the call changed meanwhile' },
        };
      this.deps.hub.deliver(owner, written.event);
      if (written.call.state !== 'proposed' && written.call.state !== 'ringing')
        this.#timers.clear(keyOf(owner, callId));
      return { call: written.call, step: s };
    });
  }

  /**
   * A change's event id is drawn inside its transaction: through the hub's ordering, so another event of
   * the owner stored meanwhile (presence, a message) cannot reach the streams first with a higher id,
   * after which they would drop this one as old (sse/DeliveryOrder.ts). A carer's "screen is ringing"
   * was lost that way once in a clean-clone run.
   */
  async #ordered(owner: string, write: () => Promise<Written | undefined>): Promise<Written | undefined> {
    let written: Written | undefined;
    await this.deps.hub.ordered(owner, async () => {
      written = await write();
      return written?.event.id === undefined ? undefined : { id: written.event.id };
    });
    return written;
  }

  #ring(call: Call, ms: number, initiator: boolean): void {
    this.#timers.set(keyOf(call.owner, call.callId), ms, () => {
      void this.#timeout(call, initiator).catch((err) =>
        this.deps.log.warn({ err, callId: call.callId }, 'ring timeout failed'),
      );
    });
  }

  /** Missed: the proposing session retracts with <timeout/> so every device of the callee stops ringing. */
  async #timeout(call: Call, initiator: boolean): Promise<void> {
    const session = this.deps.sessions.byUser(call.owner);
    const retract =
      initiator && session?.isOnline
        ? () =>
            session.send(
              buildJmi(call.peer, {
                action: 'retract',
                callId: call.callId,
                reason: { condition: 'timeout', text: 'missed' },
              }),
            )
        : undefined;
    const side = call.direction === 'out' ? 'caller' : 'callee';
    await this.advance(call.owner, call.callId, () => ({ action: 'timeout', side }), { send: retract });
  }

  /** Ends calls whose ring timer a restart (or another instance's crash) lost; then again every ring window. */
  async start(): Promise<void> {
    await this.sweep().catch((err) => this.deps.log.warn({ err }, 'call sweep failed'));
    const every = Math.max(30_000, this.deps.ringMs);
    this.#sweeper = setInterval(
      () => void this.sweep().catch((err) => this.deps.log.warn({ err }, 'call sweep failed')),
      every,
    );
    this.#sweeper.unref();
  }

  async sweep(now = Date.now()): Promise<number> {
    const stale = await this.deps.store.unansweredBefore(
      new Date(now - this.deps.ringMs - CALLEE_GRACE_MS - 5000),
    );
    for (const c of stale) {
      const side = c.direction === 'out' ? 'caller' : 'callee';
      await this.advance(c.owner, c.callId, () => ({ action: 'timeout', side }));
    }
    return stale.length;
  }

  stop(): void {
    clearInterval(this.#sweeper);
    this.#timers.clearAll();
  }
}

const keyOf = (owner: string, callId: string) => `${owner}\u0000${callId}`;
