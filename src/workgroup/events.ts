/**
 * Payloads of the workgroup feature's SSE events (ofchat's shapes, reference §1.8, plus what ofchat
 * lacked). openapi.yaml documents them as AssistEvent and AskEvent.
 *  - chatapi.assist offerReceived / offerRevoked (agents): durable. The envelope's `id` is the event id,
 *    so the offer's own id travels as `offerId`; the accept and reject routes take either.
 *  - chatapi.ask update-queue / depart-queue / offer / groupchat (visitors, key `visitor:<requestId>`): durable.
 *  - chatapi.ask notify-queue / notify-queue-details (agents' queue summaries): ephemeral, the current
 *    state is in GET …/assists/queues.
 *  - chatapi.ask status (visitors): ephemeral snapshot sent first on every connect of the visitor stream.
 * Queue fields are spelled correctly and also in ofchat's misspellings (`remaingTime`, `postion`).
 */
import type { Payload } from '../sse/events.js';
import type { DepartReason } from './xep0142.js';

/** The hub key of a visitor's events: per request, so a reused visitor name never sees older events. */
export const visitorKey = (requestId: string): string => `visitor:${requestId}`;

export function offerReceivedPayload(o: {
  workgroup: string;
  offerId: string;
  requestId?: string;
  from: string;
  metadata: Record<string, string>;
  timeoutSeconds?: number;
}): Payload {
  return {
    type: 'offerReceived',
    workgroup: o.workgroup,
    offerId: o.offerId,
    requestId: o.requestId ?? null,
    from: o.from,
    metaData: o.metadata,
    timeout: o.timeoutSeconds ?? null,
  };
}

export function offerRevokedPayload(o: {
  workgroup: string;
  offerId?: string;
  from: string;
  reason?: string;
}): Payload {
  return {
    type: 'offerRevoked',
    workgroup: o.workgroup,
    offerId: o.offerId ?? null,
    from: o.from,
    reason: o.reason ?? null,
  };
}

export interface VisitorAddress {
  workgroup: string;
  requestId: string;
  to: string;
  from: string;
}

export function updateQueuePayload(a: VisitorAddress, position: number, remainingTime: number): Payload {
  return { type: 'update-queue', ...a, position, remainingTime, remaingTime: remainingTime };
}

/** reason: `agent-not-found` (timed out, or the workgroup went away) or `departure-requested` (cancelled). */
export function departQueuePayload(a: VisitorAddress, reason: DepartReason, detail?: string): Payload {
  return { type: 'depart-queue', ...a, reason, ...(detail ? { detail } : {}) };
}

/** The invitation to the assistance room, as the visitor's puppet received it from the room. */
export function visitorOfferPayload(
  a: VisitorAddress,
  room: string,
  inviter: string,
  reason?: string,
): Payload {
  return { type: 'offer', ...a, mucRoom: room, url: `xmpp:${room}?join`, inviter, reason: reason ?? null };
}

export function visitorGroupchatPayload(
  a: VisitorAddress,
  m: {
    room: string;
    nick?: string;
    body: string;
    data: unknown;
    direction: 'in' | 'out';
    stanzaId?: string;
    delayed?: Date;
  },
): Payload {
  return {
    type: 'groupchat',
    ...a,
    from: m.nick ? `${m.room}/${m.nick}` : m.room,
    room: m.room,
    nick: m.nick ?? null,
    body: m.body,
    data: m.data ?? null,
    direction: m.direction,
    stanzaId: m.stanzaId ?? null,
    ...(m.delayed ? { delayed: true, timestamp: m.delayed.toISOString() } : {}),
  };
}

export function notifyQueuePayload(
  from: string,
  to: string,
  workgroup: string,
  q: { count: number; time: number; status: string; oldest?: string },
): Payload {
  return {
    type: 'notify-queue',
    from,
    to,
    workgroup,
    userCount: q.count,
    averageWaitTime: q.time,
    status: q.status,
    oldestEntry: q.oldest ?? null,
  };
}

export function notifyQueueDetailsPayload(
  from: string,
  to: string,
  workgroup: string,
  u: { jid: string; userId?: string; position: number; time: number; joinTime?: string },
): Payload {
  return {
    type: 'notify-queue-details',
    from,
    to,
    workgroup,
    jid: u.jid,
    userid: u.userId ?? null,
    position: u.position,
    postion: u.position,
    timeRemaining: u.time,
    joinTime: u.joinTime ?? null,
  };
}
