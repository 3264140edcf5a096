import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { Clock, TimerSet } from './timers.js';
import { Lane } from './lane.js';
import { OfferRouter } from './OfferRouter.js';
import {
  newRequestId,
  REVOKE,
  type DispatchPorts,
  type OfferRef,
  type RoutingRequests,
  type RoutingWorkgroups,
} from './routing.js';
import type { Workgroup } from './settings.js';
import { IN_CHAT, WAITING, type NewRequest, type OfferRow, type RequestRow } from './RequestStore.js';
import type { ReadAgentPresence } from './xep0142.js';
import { bareJid } from '../xmpp/jid.js';

export interface DispatcherDeps {
  workgroups: RoutingWorkgroups;
  requests: RoutingRequests;
  timers: TimerSet;
  clock: Clock;
  ports: DispatchPorts;
  log: Log;
  /** most requests waiting in one workgroup (PARLEY_ASK_QUEUE_MAX); more get 429 QUEUE_FULL */
  queueMax?: number;
}

/** How soon a visitor turned away by a full queue is told to come back. */
const QUEUE_FULL_RETRY_SECONDS = 30;

/**
 * The routing engine: the queue's state machine (queued → offered → accepted → routed → ended, or
 * canceled / timeout) with its timers. Every change runs through one serial lane, so an accept racing
 * the offer's timer has exactly one winner; the loser gets 409. IQ round trips to agents and room
 * set-up run outside the lane and come back into it with their outcome.
 */
export class Dispatcher {
  readonly #lane: Lane;
  readonly #router: OfferRouter;
  constructor(private readonly deps: DispatcherDeps) {
    this.#lane = new Lane(deps.log);
    this.#router = new OfferRouter({ ...deps, lane: this.#lane });
  }

  serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lane.serial(fn);
  }

  /** Resolves once nothing is running or queued in the lane (shutdown: before the pool closes). */
  drain(): Promise<void> {
    return this.#lane.drain();
  }

  #now(): Date {
    return new Date(this.deps.clock.now());
  }

  /** A new request at the end of the queue, its request timer armed, then routed if it can be. */
  join(n: Omit<NewRequest, 'id' | 'joinedAt'> & { id?: string }): Promise<RequestRow> {
    return this.serial(async () => {
      const w = await this.deps.workgroups.require(n.workgroup);
      const max = this.deps.queueMax;
      if (max !== undefined && (await this.deps.requests.countWaiting(w.name)) >= max)
        throw new BridgeError('QUEUE_FULL', `${w.name} has ${max} requests waiting; try again later`, {
          retryAfter: QUEUE_FULL_RETRY_SECONDS,
        });
      const request = await this.deps.requests.insert({
        ...n,
        id: n.id ?? newRequestId(),
        joinedAt: this.#now(),
      });
      this.#armRequestTimer(request, w);
      await this.#router.route(w);
      this.#router.queueChanged(w.name);
      return (await this.deps.requests.get(request.id))!;
    });
  }

  /** The visitor leaves the queue (revoking an open offer: "User canceled"); false if it was not waiting. */
  cancel(requestId: string): Promise<boolean> {
    return this.serial(async () => {
      const r = await this.deps.requests.transition(requestId, WAITING, 'canceled', {
        endReason: 'departure-requested',
        endedAt: this.#now(),
      });
      if (!r) return false;
      this.deps.timers.clear(`request:${r.id}`);
      await this.#router.revokePending(r, REVOKE.canceled);
      await this.deps.ports.departed(r, 'departure-requested');
      await this.#router.afterChange(r.workgroup);
      return true;
    });
  }

  /** XEP-0142 offer-accept: 404 unknown offer, 403 another agent's, 409 no longer open. */
  accept(workgroup: string, agentFull: string, ref: OfferRef): Promise<RequestRow> {
    return this.serial(async () => {
      const offer = await this.#router.ownOffer(workgroup, agentFull, ref);
      this.deps.timers.clear(`offer:${offer.id}`);
      const now = this.#now();
      await this.deps.requests.closeOffer(offer.id, 'accepted', now);
      const r = await this.deps.requests.transition(offer.requestId, ['offered'], 'accepted', {
        agentJid: offer.agentJid,
        acceptedAt: now,
      });
      if (!r) throw new BridgeError('CONFLICT', 'the request is no longer waiting');
      this.deps.timers.clear(`request:${r.id}`);
      this.#router.queueChanged(workgroup);
      this.#lane.background(this.#startChat(r, offer), 'room set-up');
      return r;
    });
  }

  /** XEP-0142 offer-reject: remembered for the rejection memory, then the next agent is tried. */
  reject(workgroup: string, agentFull: string, ref: OfferRef): Promise<void> {
    return this.serial(async () => {
      const offer = await this.#router.ownOffer(workgroup, agentFull, ref);
      await this.#router.closeAndRequeue(offer, 'rejected');
      await this.#router.afterChange(workgroup);
    });
  }

  /** Agent presence to the workgroup: members only; a changed show or limit keeps their turn. */
  onDuty(
    workgroup: string,
    agentFull: string,
    p: ReadAgentPresence,
  ): Promise<{ maxChats: number; currentChats: number }> {
    return this.serial(async () => {
      const w = await this.deps.workgroups.require(workgroup);
      const agent = bareJid(agentFull);
      if (!(await this.deps.workgroups.isMember(workgroup, agent)))
        throw new BridgeError('FORBIDDEN', `${agent} is not an agent of ${workgroup}`);
      await this.deps.workgroups.upsertAgent(
        { workgroup, jid: agent, fullJid: agentFull, show: p.show, maxChats: p.maxChats },
        this.#now(),
      );
      await this.#router.afterChange(workgroup);
      return {
        maxChats: p.maxChats ?? w.maxChats,
        currentChats: (await this.deps.requests.chatsByAgent(workgroup)).get(agent) ?? 0,
      };
    });
  }

  /** Unavailable presence from the resource on duty: its open offers go back to the queue. */
  offDuty(workgroup: string, agentFull: string): Promise<void> {
    return this.serial(async () => {
      if (!(await this.deps.workgroups.removeAgent(workgroup, agentFull))) return;
      for (const o of await this.deps.requests.pendingOffers(workgroup)) {
        if (o.agentFull !== agentFull) continue;
        await this.#router.closeAndRequeue(o, 'revoked', REVOKE.offDuty);
        // An agent still online (off duty, not offline) sees the offer go; to one who left it simply bounces.
        const r = await this.deps.requests.get(o.requestId);
        if (r) void this.deps.ports.sendRevoke(o, r, REVOKE.offDuty);
      }
      await this.#router.afterChange(workgroup);
    });
  }

  /** The chat is over (agent or visitor left): the agent's capacity is free again. */
  chatEnded(requestId: string, reason: string): Promise<RequestRow | undefined> {
    return this.serial(async () => {
      const r = await this.deps.requests.transition(requestId, IN_CHAT, 'ended', {
        endReason: reason,
        endedAt: this.#now(),
      });
      if (r) await this.#router.afterChange(r.workgroup);
      return r;
    });
  }

  /** Runs routing for a workgroup now (after agents or settings changed). */
  dispatch(workgroup: string): Promise<void> {
    return this.serial(() => this.#router.afterChange(workgroup));
  }

  /** Room set-up outside the lane; a failure revokes the accepted offer (XEP-0142 allows it until the invitation) and puts the request back. */
  async #startChat(r: RequestRow, offer: OfferRow): Promise<void> {
    let room: string | undefined;
    try {
      const w = await this.deps.workgroups.require(r.workgroup);
      room = await this.deps.ports.openRoom(r, w);
      // Routed before the invitations go out: a visitor who acts on theirs at once finds the room on record.
      const routed = await this.serial(() =>
        this.deps.requests.transition(r.id, ['accepted'], 'routed', { room }),
      );
      if (!routed) {
        await this.deps.ports.closeRoom(room);
        return;
      } // the visitor left while the room was being made
      await this.deps.ports.invite(routed, offer, w);
    } catch (err) {
      this.deps.log.warn({ err, requestId: r.id }, 'assistance room could not be set up');
      if (room) await this.deps.ports.closeRoom(room).catch(() => undefined);
      await this.serial(async () => {
        const back = await this.deps.requests.transition(r.id, ['accepted', 'routed'], 'queued');
        const w = await this.deps.workgroups.get(r.workgroup);
        if (back && w) this.#armRequestTimer(back, w); // it waits again, from its original join time
        if (back) void this.deps.ports.sendRevoke(offer, back, REVOKE.roomFailed);
        await this.#router.afterChange(r.workgroup);
      });
    }
  }

  #armRequestTimer(r: RequestRow, w: Workgroup): void {
    this.deps.timers.set(`request:${r.id}`, r.joinedAt.getTime() + w.requestTimeoutMs, () =>
      this.#lane.background(this.#requestTimedOut(r.id), 'request timeout'),
    );
  }

  /** Nobody took the request in time: its open offer is revoked and the visitor told (agent-not-found). */
  #requestTimedOut(requestId: string): Promise<void> {
    return this.serial(async () => {
      const r = await this.deps.requests.transition(requestId, WAITING, 'timeout', {
        endReason: 'agent-not-found',
        endedAt: this.#now(),
      });
      if (!r) return;
      await this.#router.revokePending(r, REVOKE.requestTimeout);
      await this.deps.ports.departed(r, 'agent-not-found', 'no agent took the request in time');
      await this.#router.afterChange(r.workgroup);
    });
  }

  /** Every waiting request of a deleted workgroup ends; open offers are revoked. */
  closeWorkgroup(workgroup: string): Promise<void> {
    return this.serial(async () => {
      for (const r of await this.deps.requests.waiting(workgroup)) {
        const ended = await this.deps.requests.transition(r.id, WAITING, 'canceled', {
          endReason: 'workgroup-deleted',
          endedAt: this.#now(),
        });
        if (!ended) continue;
        this.deps.timers.clear(`request:${r.id}`);
        await this.#router.revokePending(ended, REVOKE.deleted);
        await this.deps.ports.departed(ended, 'agent-not-found', 'the workgroup was deleted');
      }
      this.#router.forget(workgroup);
    });
  }

  /**
   * After a restart: offers that were open (or accepted without a room yet) are revoked and their
   * requests re-queued in their old place; request timers are re-armed from the stored join times.
   * Returns the revocations to send once the component is online.
   */
  recover(): Promise<{ offer: OfferRow; request: RequestRow }[]> {
    return this.serial(async () => {
      const now = this.#now();
      const revokes: { offer: OfferRow; request: RequestRow }[] = [];
      for (const o of await this.deps.requests.pendingOffers()) {
        const closed = await this.deps.requests.closeOffer(o.id, 'revoked', now, REVOKE.restarted);
        const r = closed && (await this.deps.requests.transition(o.requestId, ['offered'], 'queued'));
        if (closed && r) revokes.push({ offer: closed, request: r });
      }
      for (const r of await this.deps.requests.withStatus(['accepted'])) {
        const offer = await this.deps.requests.acceptedOffer(r.id);
        const back = await this.deps.requests.transition(r.id, ['accepted', 'routed'], 'queued');
        if (offer && back) revokes.push({ offer, request: back });
      }
      for (const r of await this.deps.requests.withStatus(WAITING)) {
        const w = await this.deps.workgroups.get(r.workgroup);
        if (w) this.#armRequestTimer(r, w);
      }
      return revokes;
    });
  }

  /** Routing for every workgroup (after the component came online). */
  async dispatchAll(): Promise<void> {
    for (const w of await this.deps.workgroups.list()) await this.dispatch(w.name);
  }
}
