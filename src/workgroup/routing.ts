import { randomBytes } from 'node:crypto';
import type { AgentView, WaitingRequest, Rejection } from './queue.js';
import type { Workgroup } from './settings.js';
import type { AgentRow, WorkgroupStore } from './WorkgroupStore.js';
import type { OfferRow, RequestRow, RequestStore } from './RequestStore.js';
import type { DepartReason } from './xep0142.js';

/** What the dispatcher needs from the XMPP side; it never builds stanzas itself. */
export interface DispatchPorts {
  online(): boolean;
  /** Sends the offer IQ; rejects when the agent's resource is gone or does not answer. */
  sendOffer(offer: OfferRow, request: RequestRow, w: Workgroup): Promise<void>;
  sendRevoke(offer: OfferRow, request: RequestRow, reason: string): Promise<void>;
  departed(request: RequestRow, reason: DepartReason, detail?: string): Promise<void>;
  queueChanged(workgroup: string): Promise<void>;
  /** Creates the room and posts the question (and welcome text); resolves with the room's JID. */
  openRoom(request: RequestRow, w: Workgroup): Promise<string>;
  /** Invites the agent (with the XEP-0142 offer) and the visitor into the request's room. */
  invite(request: RequestRow, offer: OfferRow, w: Workgroup): Promise<void>;
  closeRoom(room: string): Promise<void>;
}

/**
 * The slices of the two stores routing uses (narrow, so unit tests drive the dispatcher with in-memory
 * fakes; the Postgres stores satisfy them as they are).
 */
export type RoutingRequests = Pick<
  RequestStore,
  | 'insert'
  | 'get'
  | 'transition'
  | 'waiting'
  | 'withStatus'
  | 'chatsByAgent'
  | 'insertOffer'
  | 'offer'
  | 'offerFor'
  | 'pendingOffers'
  | 'closeOffer'
  | 'rejections'
  | 'acceptedOffer'
  | 'countWaiting'
>;
export type RoutingWorkgroups = Pick<
  WorkgroupStore,
  'get' | 'require' | 'list' | 'isMember' | 'agents' | 'upsertAgent' | 'removeAgent' | 'removeResource'
>;

/** Revocation reasons: the first two are Openfire Fastpath's own words. */
export const REVOKE = {
  timeout: 'The offer has timed out',
  canceled: 'User canceled',
  requestTimeout: 'The request has timed out',
  offDuty: 'The agent went off duty',
  restarted: 'The workgroup service restarted',
  roomFailed: 'The chat room could not be created',
  deleted: 'The workgroup was deleted',
} as const;

/** An answer names the offer by its id (Fastpath), or by the user it is about (XEP-0142). */
export type OfferRef = { offerId?: string; userJid?: string };

/** Hex only: request ids become JID localparts (`visitor-<id>`), which are case-folded. */
export const newRequestId = (): string => `rq${randomBytes(8).toString('hex')}`;
export const newOfferId = (): string => `of${randomBytes(8).toString('hex')}`;

export interface RoutingState {
  queue: RequestRow[];
  agents: AgentRow[];
  views: AgentView[];
  waiting: WaitingRequest[];
  rejections: Rejection[];
}

/** Everything routing looks at for one workgroup, read from the database in one go. */
export async function loadRouting(
  d: { workgroups: Pick<RoutingWorkgroups, 'agents'>; requests: RoutingRequests },
  w: Workgroup,
  now: number,
): Promise<RoutingState> {
  const [queue, agents, chats, pending, rejections] = await Promise.all([
    d.requests.waiting(w.name),
    d.workgroups.agents(w.name),
    d.requests.chatsByAgent(w.name),
    d.requests.pendingOffers(w.name),
    d.requests.rejections(w.name, new Date(now - w.rejectionMemoryMs)),
  ]);
  const views = agents.map((a) => ({
    jid: a.jid,
    show: a.show,
    maxChats: a.maxChats ?? w.maxChats,
    chats: chats.get(a.jid) ?? 0,
    pendingOffers: pending.filter((o) => o.agentJid === a.jid).length,
    since: a.since.getTime(),
  }));
  const waiting = queue.map((r) => ({
    id: r.id,
    offeredTo: pending.find((o) => o.requestId === r.id)?.agentJid,
  }));
  return { queue, agents, views, waiting, rejections };
}
