/**
 * Pure queue logic of the workgroup service (no I/O, no clock: `now` is passed in), so that routing
 * rules can be tested exhaustively without servers.
 *
 * Routing follows Openfire Fastpath's default RoundRobinDispatcher (reference §4), with the rules the
 * issue names: agents are tried in a fixed rotation starting after the last agent offered a request;
 * an agent is skipped when their show is `dnd` or `xa` (XEP-0142: do not route), when their chats plus
 * open offers reach their max-chats, or when they rejected (or let time out) this very request within
 * the rejection memory. Among the agents left, `chat`/`available` ones win over `away` ones ("busy,
 * rejection likely"), still in rotation order.
 */
import type { AgentShow } from './xep0142.js';

export interface AgentView {
  /** bare JID: an agent is one person, whatever resource they went on duty from */
  jid: string;
  show: AgentShow;
  maxChats: number;
  /** accepted chats still going on */
  chats: number;
  /** offers sent and not answered yet */
  pendingOffers: number;
  /** when they went on duty (ms): the rotation order, oldest first */
  since: number;
}

export interface WaitingRequest {
  id: string;
  offeredTo?: string;
}
export interface Rejection {
  requestId: string;
  agent: string;
  at: number;
}

export interface PlanInput {
  queue: WaitingRequest[];
  agents: AgentView[];
  rejections: Rejection[];
  /** the agent the previous offer went to; the rotation continues after them */
  cursor?: string;
  now: number;
  rejectionMemoryMs: number;
}

export interface Plan {
  offers: { requestId: string; agent: string }[];
  cursor?: string;
  /** when a rejection memory that held a request back runs out (ms): dispatch again then */
  wakeAt?: number;
}

/** The rotation: agents by the time they went on duty, then by JID (a stable order across calls). */
export function rotation(agents: AgentView[]): AgentView[] {
  return [...agents].sort((a, b) => a.since - b.since || a.jid.localeCompare(b.jid));
}

const ROUTABLE: ReadonlySet<AgentShow> = new Set(['chat', 'available', 'away']);

export function hasCapacity(a: AgentView): boolean {
  return a.chats + a.pendingOffers < a.maxChats;
}

/** The newest rejection of `requestId` by `agent` still remembered at `now`, else undefined. */
export function rememberedRejection(
  rejections: Rejection[],
  requestId: string,
  agent: string,
  now: number,
  memoryMs: number,
): Rejection | undefined {
  return rejections
    .filter((r) => r.requestId === requestId && r.agent === agent && now - r.at < memoryMs)
    .sort((a, b) => b.at - a.at)[0];
}

/**
 * The agent to offer `requestId` to, or undefined: the first eligible agent after `cursor` in the
 * rotation, preferring ready agents to `away` ones. `heldBack` collects rejections that were the only
 * reason an agent was skipped (their expiry is when trying again can help).
 */
export function pickAgent(
  ordered: AgentView[],
  requestId: string,
  input: Pick<PlanInput, 'rejections' | 'now' | 'rejectionMemoryMs'>,
  cursor: string | undefined,
  heldBack: Rejection[] = [],
): AgentView | undefined {
  const start = cursor === undefined ? 0 : ordered.findIndex((a) => a.jid === cursor) + 1;
  const turn = [...ordered.slice(start), ...ordered.slice(0, start)];
  const eligible = turn.filter((a) => {
    if (!ROUTABLE.has(a.show) || !hasCapacity(a)) return false;
    const rejected = rememberedRejection(
      input.rejections,
      requestId,
      a.jid,
      input.now,
      input.rejectionMemoryMs,
    );
    if (rejected) heldBack.push(rejected);
    return !rejected;
  });
  return eligible.find((a) => a.show !== 'away') ?? eligible[0];
}

/**
 * Offers to make now, oldest request first: each request without an open offer gets the next eligible
 * agent; an agent given an offer counts it against their capacity for the rest of the plan.
 */
export function planOffers(input: PlanInput): Plan {
  const agents = rotation(input.agents).map((a) => ({ ...a }));
  const offers: Plan['offers'] = [];
  const heldBack: Rejection[] = [];
  let cursor = input.cursor;
  for (const request of input.queue) {
    if (request.offeredTo) continue;
    const held: Rejection[] = [];
    const agent = pickAgent(agents, request.id, input, cursor, held);
    if (!agent) {
      heldBack.push(...held);
      continue;
    }
    agent.pendingOffers++;
    cursor = agent.jid;
    offers.push({ requestId: request.id, agent: agent.jid });
  }
  const wakeAt = heldBack.length
    ? Math.min(...heldBack.map((r) => r.at + input.rejectionMemoryMs))
    : undefined;
  return { offers, cursor, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}

/** 1-based queue positions (Openfire's convention), in queue order. */
export function positions(queue: { id: string }[]): Map<string, number> {
  return new Map(queue.map((r, i) => [r.id, i + 1]));
}

export interface ServedRequest {
  waitedMs: number;
  initialPosition: number;
}

/**
 * How long one place in the queue takes to clear, from recent history: the time served requests
 * waited, divided by the place they joined at, averaged. Without history: `fallbackMs`.
 */
export function msPerPosition(history: ServedRequest[], fallbackMs: number): number {
  const usable = history.filter((h) => h.waitedMs >= 0 && h.initialPosition >= 1);
  if (!usable.length) return fallbackMs;
  return usable.reduce((sum, h) => sum + h.waitedMs / h.initialPosition, 0) / usable.length;
}

/** Seconds a request at `position` may still wait (0 when it is being offered right now). */
export function estimateSeconds(position: number, perPositionMs: number, beingOffered = false): number {
  if (beingOffered) return 0;
  return Math.max(0, Math.round((position * perPositionMs) / 1000));
}

/** The mean wait of served requests, in whole seconds (0 without history): the queue's `time`. */
export function averageWaitSeconds(history: ServedRequest[]): number {
  if (!history.length) return 0;
  return Math.round(history.reduce((s, h) => s + h.waitedMs, 0) / history.length / 1000);
}

/** XEP-0142 notify-queue status: closed without agents on duty, active with requests waiting, else open. */
export function queueStatus(agentsOnDuty: number, waiting: number): 'open' | 'active' | 'closed' {
  if (agentsOnDuty === 0) return 'closed';
  return waiting > 0 ? 'active' : 'open';
}

/** Which positions changed since they were last told, so updates go only to those whose place moved. */
export function changedPositions(now: Map<string, number>, told: Map<string, number>): [string, number][] {
  return [...now].filter(([id, p]) => told.get(id) !== p);
}
