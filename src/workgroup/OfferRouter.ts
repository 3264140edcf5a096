import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { Clock, TimerSet } from './timers.js';
import type { Lane } from './lane.js';
import { planOffers } from './queue.js';
import {
  loadRouting,
  newOfferId,
  REVOKE,
  type DispatchPorts,
  type OfferRef,
  type RoutingRequests,
  type RoutingWorkgroups,
} from './routing.js';
import type { Workgroup } from './settings.js';
import type { OfferRow, RequestRow } from './RequestStore.js';
import { bareJid } from '../xmpp/jid.js';

export interface OfferRouterDeps {
  workgroups: RoutingWorkgroups;
  requests: RoutingRequests;
  timers: TimerSet;
  clock: Clock;
  ports: DispatchPorts;
  log: Log;
  lane: Lane;
}

/**
 * What follows a change to a workgroup's queue: the routing run that offers waiting requests to agents,
 * the offers' own timers and bounces, and the queue notices. Callers are already on the lane; what
 * starts here on its own (timers, bounced IQs) queues onto it.
 */
export class OfferRouter {
  readonly #cursor = new Map<string, string>();
  /** workgroups whose queue notices are already scheduled on the lane */
  readonly #noticeDue = new Set<string>();
  constructor(private readonly deps: OfferRouterDeps) {}

  #now(): Date {
    return new Date(this.deps.clock.now());
  }

  async afterChange(workgroup: string): Promise<void> {
    const w = await this.deps.workgroups.get(workgroup);
    if (w) await this.route(w);
    this.queueChanged(workgroup);
  }

  /**
   * Queue notices (every waiting visitor's place, every agent's queue presence) cost O(queue) per run.
   * They are coalesced: one run per workgroup is scheduled at the end of the lane, and every change made
   * before it runs is covered by it, so a burst of joins costs one run, not one per join. Being on the
   * lane, it still comes after a departure's own notice, never before.
   */
  queueChanged(workgroup: string): void {
    if (this.#noticeDue.has(workgroup)) return;
    this.#noticeDue.add(workgroup);
    const { lane } = this.deps;
    lane.background(
      lane.serial(async () => {
        this.#noticeDue.delete(workgroup);
        await this.deps.ports.queueChanged(workgroup);
      }),
      'queue notices',
    );
  }

  /** Plans and sends offers (pure planning in queue.ts; the rows are written before the IQ goes out). */
  async route(w: Workgroup): Promise<void> {
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
    if (plan.wakeAt !== undefined) {
      const { lane } = this.deps;
      this.deps.timers.setEarliest(`wake:${w.name}`, plan.wakeAt, () =>
        lane.background(
          lane.serial(() => this.afterChange(w.name)),
          'routing',
        ),
      );
    }
    for (const o of plan.offers) {
      const request = queue.find((r) => r.id === o.requestId)!;
      const agent = agents.find((a) => a.jid === o.agent)!;
      await this.#offer(w, request, agent.fullJid, now);
    }
  }

  /** A deleted workgroup: its rotation and wake-up go with it. */
  forget(workgroup: string): void {
    this.#cursor.delete(workgroup);
    this.deps.timers.clear(`wake:${workgroup}`);
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
    const { lane } = this.deps;
    this.deps.timers.set(`offer:${offer.id}`, offer.expiresAt.getTime(), () =>
      lane.background(this.#offerTimedOut(offer.id), 'offer timeout'),
    );
    this.deps.ports
      .sendOffer(offer, request, w)
      .catch((err: unknown) => lane.background(this.#offerBounced(offer, err), 'bounced offer'));
  }

  #offerTimedOut(offerId: string): Promise<void> {
    return this.deps.lane.serial(async () => {
      const offer = await this.deps.requests.offer(offerId);
      if (offer?.status !== 'pending') return;
      await this.closeAndRequeue(offer, 'timeout', REVOKE.timeout);
      const request = await this.deps.requests.get(offer.requestId);
      if (request) void this.deps.ports.sendRevoke(offer, request, REVOKE.timeout);
      await this.afterChange(offer.workgroup);
    });
  }

  /** The offer IQ failed: the resource is gone (it left while the gateway was down) or refuses offers. */
  #offerBounced(offer: OfferRow, err: unknown): Promise<void> {
    this.deps.log.info(
      { err, offerId: offer.id, agent: offer.agentFull },
      'offer bounced; the agent goes off duty',
    );
    return this.deps.lane.serial(async () => {
      await this.closeAndRequeue(offer, 'failed', 'the agent did not take the offer IQ');
      const left = await this.deps.workgroups.removeResource(offer.agentFull);
      for (const wg of new Set([offer.workgroup, ...left])) await this.afterChange(wg);
    });
  }

  async ownOffer(workgroup: string, agentFull: string, ref: OfferRef): Promise<OfferRow> {
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

  async closeAndRequeue(
    offer: OfferRow,
    status: 'rejected' | 'timeout' | 'revoked' | 'failed',
    reason?: string,
  ): Promise<void> {
    this.deps.timers.clear(`offer:${offer.id}`);
    if (!(await this.deps.requests.closeOffer(offer.id, status, this.#now(), reason))) return;
    await this.deps.requests.transition(offer.requestId, ['offered'], 'queued');
  }

  async revokePending(r: RequestRow, reason: string): Promise<void> {
    for (const o of await this.deps.requests.pendingOffers(r.workgroup)) {
      if (o.requestId !== r.id) continue;
      this.deps.timers.clear(`offer:${o.id}`);
      const closed = await this.deps.requests.closeOffer(o.id, 'revoked', this.#now(), reason);
      if (closed) void this.deps.ports.sendRevoke(closed, r, reason);
    }
  }
}
