import { BridgeError } from '../errors/BridgeError.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import type { AgentSide, Duty } from './AgentSide.js';
import { averageWaitSeconds, estimateSeconds, msPerPosition, queueStatus } from './queue.js';
import type { RequestStore } from './RequestStore.js';
import type { WorkgroupStore } from './WorkgroupStore.js';
import { workgroupFromJidOrName } from './settings.js';

export interface AgentDeskDeps {
  side: AgentSide;
  workgroups: WorkgroupStore;
  requests: RequestStore;
  hub: EventHub;
  serviceDomain: string;
}

const FALLBACK_MS_PER_POSITION = 60_000;

/**
 * What the agent routes do with a session: duty and answers go over XMPP (AgentSide); the agent's view of
 * queues and chat counts is read from the workgroup's own tables (the component runs in this process).
 */
export class AgentDesk {
  constructor(private readonly deps: AgentDeskDeps) {}

  /** ofchat: a short name becomes `name@workgroup.<domain>`. */
  workgroupJid(raw: string): { name: string; jid: string } {
    const name = workgroupFromJidOrName(raw, this.deps.serviceDomain);
    return { name, jid: `${name}@${this.deps.serviceDomain}` };
  }

  async onDuty(session: UserSession, raw: string, duty: Duty) {
    const wg = this.workgroupJid(raw);
    const answer = await this.deps.side.goOnDuty(session, wg.jid, duty);
    return { workgroup: wg.jid, name: wg.name, onDuty: true, show: duty.show, ...answer };
  }

  async offDuty(session: UserSession, raw: string): Promise<void> {
    await this.deps.side.goOffDuty(session, this.workgroupJid(raw).jid);
  }

  /** The workgroups the user is an agent of (the `workgroups` IQ), with this session's duty. */
  async assists(session: UserSession) {
    const list = await this.deps.side.workgroups(session);
    const duty = this.deps.side.dutyOf(session);
    return Promise.all(
      list.map(async (w) => {
        const [wg, chats] = await Promise.all([
          this.deps.workgroups.get(w.name),
          this.deps.requests.chatsByAgent(w.name),
        ]);
        const mine = duty.get(w.jid);
        return {
          workgroup: w.jid,
          name: w.name,
          description: w.description ?? null,
          onDuty: mine !== undefined,
          show: mine?.show ?? null,
          maxChats: mine?.maxChats ?? wg?.maxChats ?? null,
          currentChats: chats.get(session.bareJid) ?? 0,
        };
      }),
    );
  }

  /** ofchat's agent view of the queues: who waits where, how long, and the agent's own load. */
  async queues(session: UserSession) {
    const now = Date.now();
    const list = await this.deps.workgroups.workgroupsOf(session.bareJid);
    return Promise.all(
      list.map(async (w) => {
        const [waiting, agents, chats, served] = await Promise.all([
          this.deps.requests.waiting(w.name),
          this.deps.workgroups.agents(w.name),
          this.deps.requests.chatsByAgent(w.name),
          this.deps.requests.served(w.name, new Date(now - 24 * 3600_000)),
        ]);
        const me = agents.find((a) => a.jid === session.bareJid);
        const perPosition = msPerPosition(served, FALLBACK_MS_PER_POSITION);
        return {
          workgroup: `${w.name}@${this.deps.serviceDomain}`,
          name: w.name,
          status: queueStatus(agents.length, waiting.length),
          averageWaitTime: averageWaitSeconds(served),
          oldestEntry: waiting[0]?.joinedAt.toISOString() ?? null,
          users: waiting.map((r, i) => ({
            userID: r.userId,
            jid: r.userJid,
            queuePosition: i + 1,
            estimatedTime: estimateSeconds(i + 1, perPosition, r.status === 'offered'),
            joinDate: r.joinedAt.toISOString(),
            question: r.question ?? null,
          })),
          onDuty: me !== undefined,
          maxChats: me?.maxChats ?? w.maxChats,
          currentChats: chats.get(session.bareJid) ?? 0,
        };
      }),
    );
  }

  /**
   * Accept or reject. `ref` is the offer id (`offerId` of the offerReceived event) or, for ofchat clients
   * that send the event's `id`, that event's id: it is looked up among this user's own events.
   */
  async answer(
    session: UserSession,
    ref: string,
    kind: 'offer-accept' | 'offer-reject',
    expectedWorkgroup?: string,
  ) {
    const offerId = await this.#offerId(session.username, ref);
    const offer = await this.deps.requests.offer(offerId);
    if (!offer) throw new BridgeError('NOT_FOUND', `no offer ${ref}`);
    if (expectedWorkgroup !== undefined && offer.workgroup !== this.workgroupJid(expectedWorkgroup).name) {
      throw new BridgeError('NOT_FOUND', `no offer ${ref} in ${expectedWorkgroup}`);
    }
    const wgJid = `${offer.workgroup}@${this.deps.serviceDomain}`;
    await this.deps.side.answer(session, wgJid, kind, offerId);
    const request = await this.deps.requests.get(offer.requestId);
    return {
      offerId,
      workgroup: wgJid,
      from: request?.userJid ?? null,
      status: kind === 'offer-accept' ? 'accepted' : 'rejected',
    };
  }

  async #offerId(username: string, ref: string): Promise<string> {
    if (/^of[0-9a-f]{16}$/.test(ref)) return ref;
    if (!/^\d{1,18}$/.test(ref))
      throw new BridgeError('NOT_FOUND', `"${ref.slice(0, 40)}" is not an offer id`);
    const [event] = await this.deps.hub.store.after(username, String(BigInt(ref) - 1n), 1);
    const offerId =
      event?.id === ref && event.name === EVENT_NAMES.assist ? event.payload.offerId : undefined;
    if (typeof offerId !== 'string')
      throw new BridgeError('NOT_FOUND', `event ${ref} is not one of your offers`);
    return offerId;
  }
}
