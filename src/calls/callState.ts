/**
 * The call state machine, pure (no I/O): what a JMI message, a REST action or the ring timer does to
 * a call, seen from one party. Both parties run the same machine; `side` says who acted.
 *
 *   proposed ──ringing──▶ ringing ──proceed──▶ accepted ──finish──▶ ended (completed | failed)
 *      │                     │
 *      └──── reject ─────────┴──▶ ended (declined)      retract ──▶ ended (cancelled, or missed on timeout)
 *                                                        timer   ──▶ ended (missed)
 *                                                        bounce  ──▶ ended (failed)
 *
 * References: XEP-0353 §3 (https://xmpp.org/extensions/xep-0353.html), XEP-0166 §7.4 reasons.
 */
import type { CallEventType, CallOutcome, CallReason, CallState, JmiAction } from './types.js';

export type Side = 'caller' | 'callee';
/** `timeout`: the ring timer fired; `error`: the proposal bounced (the callee's server refused it). */
export type CallInput = {
  action: Exclude<JmiAction, 'propose'> | 'timeout' | 'error';
  side: Side;
  reason?: CallReason;
};

export type Step =
  | { kind: 'change'; state: CallState; event: CallEventType; outcome?: CallOutcome; answered?: true }
  | { kind: 'same' }
  | { kind: 'invalid'; why: string };

/** Conditions after which a finished call counts as failed rather than completed. */
const FAILURES = new Set([
  'connectivity-error',
  'failed-application',
  'failed-transport',
  'general-error',
  'media-error',
  'security-error',
  'incompatible-parameters',
  'unsupported-applications',
  'unsupported-transports',
]);

const unanswered = (s: CallState) => s === 'proposed' || s === 'ringing';
const invalid = (why: string): Step => ({ kind: 'invalid', why });
const ended = (event: CallEventType, outcome: CallOutcome): Step => ({
  kind: 'change',
  state: 'ended',
  event,
  outcome,
});

export function step(state: CallState, input: CallInput): Step {
  if (state === 'ended') return invalid('the call has ended');
  const { action, side } = input;
  switch (action) {
    case 'ringing':
      if (side !== 'callee') return invalid('only the callee rings');
      if (state === 'ringing' || state === 'accepted') return { kind: 'same' };
      return { kind: 'change', state: 'ringing', event: 'ringing' };
    case 'proceed':
      if (side !== 'callee') return invalid('only the callee can accept');
      // A second device answering the same call (a race) changes nothing.
      if (state === 'accepted') return { kind: 'same' };
      return { kind: 'change', state: 'accepted', event: 'accepted', answered: true };
    case 'reject':
      if (side !== 'callee') return invalid('only the callee can decline');
      return unanswered(state)
        ? ended('declined', 'declined')
        : invalid('the call was already accepted; end it instead');
    case 'retract':
      if (side !== 'caller') return invalid('only the caller can retract');
      if (!unanswered(state)) return invalid('the call was already accepted; end it instead');
      return ended('ended', input.reason?.condition === 'timeout' ? 'missed' : 'cancelled');
    case 'finish':
      if (unanswered(state)) return ended('ended', 'cancelled');
      return ended('ended', input.reason && FAILURES.has(input.reason.condition) ? 'failed' : 'completed');
    case 'timeout':
      return unanswered(state) ? ended('ended', 'missed') : invalid('the call was answered');
    case 'error':
      return unanswered(state) ? ended('ended', 'failed') : invalid('the call was answered');
  }
}

/** Which party acted: the owner's own devices ("self") or the other party ("peer"). */
export function sideOf(direction: 'in' | 'out', actor: 'self' | 'peer'): Side {
  return (direction === 'out') === (actor === 'self') ? 'caller' : 'callee';
}

/**
 * What "end this call" means for the party asking: finish once accepted; before that, the caller
 * retracts and the callee declines (XEP-0353 has no retract for the callee).
 */
export function endAction(state: CallState, side: Side): 'finish' | 'retract' | 'reject' {
  if (state === 'accepted') return 'finish';
  return side === 'caller' ? 'retract' : 'reject';
}
