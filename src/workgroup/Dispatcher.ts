import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { Clock, TimerSet } from './timers.js';
import { planOffers } from './queue.js';
import {
  loadRouting,
  newOfferId,
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
  #lane: Promise<unknown> = Promise.resolve();
  readonly #cursor = new Map<string, string>();
  /** workgroups whose queue notices are already scheduled on the lane */
  readonly #noticeDue = new Set<string>();
  constructor(private readonly deps: DispatcherDeps) {}

  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lane.then(fn, fn);
    this.#lane = run.catch(() => undefined);
    return run;
  }

  /** Work nobody awaits (timers, IQ outcomes): a failure (say, the database is down) is logged, never thrown. */
  #background(work: Promise<unknown>, what: string): void {
    work.catch((err: unknown) => this.deps.log.warn({ err }, `workgroup ${what} failed`));
  }

  /** Resolves once nothing is running or queued in the lane (shutdown: before the pool closes). */
  async drain(): Promise<void> {
    for (let tail = this.#lane; ; tail = this.#lane) {
      await tail;
      if (tail === this.#lane) return;
    }
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
      await this.#dispatch(w);
      this.#queueChanged(w.name);
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
      await this.#revokePending(r, REVOKE.canceled);
      await this.deps.ports.departed(r, 'departure-requested');
      await this.#afterChange(r.workgroup);
      return true;
    });
  }

  /** XEP-0142 offer-accept: 404 unknown offer, 403 another agent's, 409 no longer open. */
  accept(workgroup: string, agentFull: string, ref: OfferRef): Promise<RequestRow> {
    return this.serial(async () => {
      const offer = await this.#ownOffer(workgroup, agentFull, ref);
      this.deps.timers.clear(`offer:${offer.id}`);
      const now = this.#now();
      await this.deps.requests.closeOffer(offer.id, 'accepted', now);
      const r = await this.deps.requests.transition(offer.requestId, ['offered'], 'accepted', {
        agentJid: offer.agentJid,
        acceptedAt: now,
      });
      if (!r) throw new BridgeError('CONFLICT', 'the request is no longer waiting');
      this.deps.timers.clear(`request:${r.id}`);
      this.#queueChanged(workgroup);
      this.#background(this.#startChat(r, offer), 'room set-up');
      return r;
    });
  }

  /** XEP-0142 offer-reject: remembered for the rejection memory, then the next agent is tried. */
  reject(workgroup: string, agentFull: string, ref: OfferRef): Promise<void> {
    return this.serial(async () => {
      const offer = await this.#ownOffer(workgroup, agentFull, ref);
      await this.#closeAndRequeue(offer, 'rejected');
      await this.#afterChange(workgroup);
    });
  }

  async #ownOffer(workgroup: string, agentFull: string, ref: OfferRef): Promise<OfferRow> {
    const agent = bareJid(agentFull);
    const offer = ref.offerId
      ? await this.deps.requests.offer(ref.offerId)
      : ref.userJid
        ? await this.deps.requests.offerFor(workgroup, agent, ref.userJid)
        : undefined;
    if (!offer || offer.workgroup !== workgroup)
      throw new BridgeError('NOT_FOUND', `no offer ${ref.offerId ?? `for ${ref.userJid}`} in ${workgroup}`);
    if (offer.agentJid !== agent) throw new BridgeError('FORBIDDEN', 'this offer was made to another agent');
    if (offer.status !== 'pending')
      throw new BridgeError(
        'CONFLICT',
        `the offer is no longer open (${offer.status}${offer.reason ? `: ${offer.reason}` : ''})`,
      );
    return offer;
  }

  async #closeAndRequeue(
    offer: OfferRow,
    status: 'rejected' | 'timeout' | 'revoked' | 'failed',
    reason?: string,
  ): Promise<void> {
    this.deps.timers.clear(`offer:${offer.id}`);
    if (!(await this.deps.requests.closeOffer(offer.id, status, this.#now(), reason))) return;
    await this.deps.requests.transition(offer.requestId, ['offered'], 'queued');
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
      await this.#afterChange(workgroup);
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
        await this.#closeAndRequeue(o, 'revoked', REVOKE.offDuty);
        // An agent still online (off duty, not offline) sees the offer go; to one who left it simply bounces.
        const r = await this.deps.requests.get(o.requestId);
        if (r) void this.deps.ports.sendRevoke(o, r, REVOKE.offDuty);
      }
      await this.#afterChange(workgroup);
    });
  }

  /** The chat is over (agent or visitor left): the agent's capacity is free again. */
  chatEnded(requestId: string, reason: string): Promise<RequestRow | undefined> {
    return this.serial(async () => {
      const r = await this.deps.requests.transition(requestId, IN_CHAT, 'ended', {
        endReason: reason,
        endedAt: this.#now(),
      });
      if (r) await this.#afterChange(r.workgroup);
      return r;
    });
  }

  /** Runs routing for a workgroup now (after agents or settings changed). */
  dispatch(workgroup: string): Promise<void> {
    return this.serial(() => this.#afterChange(workgroup));
  }

  async #afterChange(workgroup: string): Promise<void> {
    const w = await this.deps.workgroups.get(workgroup);
    if (w) await this.#dispatch(w);
    this.#queueChanged(workgroup);
  }

  /**
   * Queue notices (every waiting visitor's place, every agent's queue presence) cost O(queue) per run.
   * They are coalesced: one run per workgroup is scheduled at the end of the lane, and every change made
   * before it runs is covered by it, so a burst of joins costs one run, not one per join. Being on the
   * lane, it still comes after a departure's own notice, never before.
   */
  #queueChanged(workgroup: string): void {
    if (this.#noticeDue.has(workgroup)) return;
    this.#noticeDue.add(workgroup);
    this.#background(
      this.serial(async () => {
        this.#noticeDue.delete(workgroup);
        await this.deps.ports.queueChanged(workgroup);
      }),
      'queue notices',
    );
  }

  /** Plans and sends offers (pure planning in queue.ts; the rows are written before the IQ goes out). */
  async #dispatch(w: Workgroup): Promise<void> {
    if (!this.deps.ports.online()) return;
    const now = this.deps.clock.now();
    const { queue, agents, views, waiting, rejections } = await loadRouting(this.deps, w, now);
    const plan = planOffers({
      queue: waiting,
      agents: views,
      rejections,
      cursor: this.#cursor.get(w.name),
      now,
      rejectionMemoryMs: w.rejectionMemoryMs,
    });
    if (plan.cursor) this.#cursor.set(w.name, plan.cursor);
    if (plan.wakeAt !== undefined)
      this.deps.timers.setEarliest(`wake:${w.name}`, plan.wakeAt, () =>
        this.#background(this.dispatch(w.name), 'routing'),
      );
    for (const o of plan.offers) {
      const request = queue.find((r) => r.id === o.requestId)!;
      const agent = agents.find((a) => a.jid === o.agent)!;
      await this.#offer(w, request, agent.fullJid, now);
    }
  }

  async #offer(w: Workgroup, request: RequestRow, agentFull: string, now: number): Promise<void> {
    const offer: OfferRow = {
      id: newOfferId(),
      requestId: request.id,
      workgroup: w.name,
      agentJid: bareJid(agentFull),
      agentFull,
      status: 'pending',
      offeredAt: new Date(now),
      expiresAt: new Date(now + w.offerTimeoutMs),
    };
    await this.deps.requests.insertOffer(offer);
    await this.deps.requests.transition(request.id, ['queued'], 'offered');
    this.deps.timers.set(`offer:${offer.id}`, offer.expiresAt.getTime(), () =>
      this.#background(this.#offerTimedOut(offer.id), 'offer timeout'),
    );
    this.deps.ports
      .sendOffer(offer, request, w)
      .catch((err: unknown) => this.#background(this.#offerBounced(offer, err), 'bounced offer'));
  }

  #offerTimedOut(offerId: string): Promise<void> {
    return this.serial(async () => {
      const offer = await this.deps.requests.offer(offerId);
      if (offer?.status !== 'pending') return;
      await this.#closeAndRequeue(offer, 'timeout', REVOKE.timeout);
      const request = await this.deps.requests.get(offer.requestId);
      if (request) void this.deps.ports.sendRevoke(offer, request, REVOKE.timeout);
      await this.#afterChange(offer.workgroup);
    });
  }

  /** The offer IQ failed: the resource is gone (it left while the gateway was down) or refuses offers. */
  #offerBounced(offer: OfferRow, err: unknown): Promise<void> {
    this.deps.log.info(
      { err, offerId: offer.id, agent: offer.agentFull },
      'offer bounced; the agent goes off duty',
    );
    return this.serial(async () => {
      await this.#closeAndRequeue(offer, 'failed', 'the agent did not take the offer IQ');
      const left = await this.deps.workgroups.removeResource(offer.agentFull);
      for (const wg of new Set([offer.workgroup, ...left])) await this.#afterChange(wg);
    });
  }

  async #revokePending(r: RequestRow, reason: string): Promise<void> {
    for (const o of await this.deps.requests.pendingOffers(r.workgroup)) {
      if (o.requestId !== r.id) continue;
      this.deps.timers.clear(`offer:${o.id}`);
      const closed = await this.deps.requests.closeOffer(o.id, 'revoked', this.#now(), reason);
      if (closed) void this.deps.ports.sendRevoke(closed, r, reason);
    }
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
        await this.#afterChange(r.workgroup);
      });
    }
  }

  #armRequestTimer(r: RequestRow, w: Workgroup): void {
    this.deps.timers.set(`request:${r.id}`, r.joinedAt.getTime() + w.requestTimeoutMs, () =>
      this.#background(this.#requestTimedOut(r.id), 'request timeout'),
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
      await this.#revokePending(r, REVOKE.requestTimeout);
      await this.deps.ports.departed(r, 'agent-not-found', 'no agent took the request in time');
      await this.#afterChange(r.workgroup);
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
        await this.#revokePending(ended, REVOKE.deleted);
        await this.deps.ports.departed(ended, 'agent-not-found', 'the workgroup was deleted');
      }
      this.#cursor.delete(workgroup);
      this.deps.timers.clear(`wake:${workgroup}`);
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
