/**
 * A call as the REST API shows it and as `chatapi.call` events carry it (pure). `from`/`to` are always
 * the caller and the callee, whoever acted; `by` names the device that caused an event. The call's id
 * is `callId`: `id` in a durable event payload is the event id (the SSE `id:`), as for every event.
 */
import type { Payload } from '../sse/events.js';
import type { Call, CallEventType } from './types.js';

export interface CallView {
  [key: string]: unknown;
  callId: string;
  direction: 'in' | 'out';
  from: string;
  to: string;
  peer: string;
  state: Call['state'];
  outcome: Call['outcome'];
  options: Call['options'];
  reason: string | null;
  condition: string | null;
  answeredBy: string | null;
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  /** from answer to end, whole seconds; null unless the call was answered and has ended */
  durationSeconds: number | null;
}

export function callView(c: Call): CallView {
  const duration =
    c.answeredAt && c.endedAt
      ? Math.max(0, Math.round((c.endedAt.getTime() - c.answeredAt.getTime()) / 1000))
      : null;
  return {
    callId: c.callId,
    direction: c.direction,
    from: c.caller,
    to: c.callee,
    peer: c.peer,
    state: c.state,
    outcome: c.outcome,
    options: c.options,
    reason: c.reason,
    condition: c.condition,
    answeredBy: c.answeredBy,
    createdAt: c.createdAt.toISOString(),
    answeredAt: c.answeredAt?.toISOString() ?? null,
    endedAt: c.endedAt?.toISOString() ?? null,
    durationSeconds: duration,
  };
}

/** What caused an event: the acting device, and whether it is another client of the same user (a carbon). */
export interface EventCause {
  by?: string;
  carbon?: boolean;
}

export function callEvent(type: CallEventType, c: Call, cause: EventCause = {}): Payload {
  return {
    type,
    callId: c.callId,
    direction: c.direction,
    from: c.caller,
    to: c.callee,
    peer: c.peer,
    state: c.state,
    outcome: c.outcome,
    options: c.options,
    reason: c.reason,
    condition: c.condition,
    ...(cause.by ? { by: cause.by } : {}),
    ...(cause.carbon ? { carbon: true } : {}),
  };
}
