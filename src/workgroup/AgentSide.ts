import xml, { type Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import { fromStanzaError } from '../errors/fromStanzaError.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import { UserSession, type SessionState } from '../xmpp/client/UserSession.js';
import type { SessionMemory } from '../sessions/SessionMemory.js';
import { readStanzaError } from '../xmpp/Waiters.js';
import {
  notifyQueueDetailsPayload,
  notifyQueuePayload,
  offerReceivedPayload,
  offerRevokedPayload,
} from './events.js';
import {
  agentPresence,
  answerIq,
  readNotifyQueue,
  readNotifyQueueDetails,
  readOffer,
  readWorkgroups,
  type AgentShow,
} from './xep0142.js';
import { bareJid, normalizeJid } from '../xmpp/jid.js';
import { NS } from '../xmpp/ns.js';

const DUTY_TIMEOUT_MS = 10_000;
/** what @xmpp/iq's callee hands a handler: the stanza, its query child, and the client it came in on */
type Pushed = { stanza: Element; element: Element; entity: object };
export interface Duty {
  show: AgentShow;
  maxChats?: number;
  status?: string;
}
export interface DutyAnswer {
  maxChats: number;
  currentChats: number;
}

/**
 * A Parley user's session as a workgroup agent: an XMPP client of `workgroup.<domain>` like any other.
 * Going on or off duty is agent presence; offers and revocations (IQs from the workgroup) become
 * durable `chatapi.assist` events; accept and reject are IQs; the workgroup's queue presence becomes
 * ephemeral `chatapi.ask` summaries. After a reconnect that lost the session, duty is announced again.
 */
export class AgentSide {
  /** streamId → workgroup JID → what the session announced */
  readonly #duty = new Map<string, Map<string, Duty>>();
  constructor(
    private readonly deps: {
      hub: EventHub;
      serviceDomain: string;
      log: Log;
      /** duty kept durable, so a session restored after a gateway restart goes back on duty */
      memory?: SessionMemory<Duty>;
    },
  ) {}

  /** Whether a stanza's sender is one of this service's workgroups (its presence is this feature's). */
  isService(jid: string): boolean {
    return this.#fromService(jid);
  }

  #fromService(jid: unknown): boolean {
    return bareJid(String(jid ?? '')).endsWith(`@${this.deps.serviceDomain}`);
  }

  /** Registers the offer IQs on a new session (its iqCallee otherwise answers service-unavailable). */
  attach(session: UserSession): void {
    const iq = session.client.iqCallee;
    iq.set(NS.workgroup, 'offer', this.#on.offer);
    iq.set(NS.workgroup, 'offer-revoke', this.#on.revoke);
    session.on('state', this.#on.state);
  }

  // The same handlers for every session (found from its client, or as the listener's `this`), not closures
  // per session: 10,000 sessions is the goal (bench/JOURNAL.md, "Memory at 10,000 sessions").
  readonly #on = AgentSide.#sessionHandlers(this);

  static #sessionHandlers(side: AgentSide) {
    return {
      offer(c: Pushed): Promise<boolean | undefined> | undefined {
        const session = UserSession.ofClient(c.entity);
        return session && side.#offer(session, c.stanza, c.element);
      },
      revoke(c: Pushed): Promise<boolean | undefined> | undefined {
        const session = UserSession.ofClient(c.entity);
        return session && side.#revoke(session, c.stanza, c.element);
      },
      state(this: UserSession, state: SessionState): void {
        if (state === 'offline') side.#duty.delete(this.streamId);
      },
    };
  }

  async #offer(session: UserSession, stanza: Element, el: Element): Promise<boolean | undefined> {
    if (!this.#fromService(stanza.attrs.from)) return undefined; // only the workgroup service makes offers
    const o = readOffer(el);
    if (!o.offerId) return undefined;
    await this.deps.hub.publish(
      session.username,
      EVENT_NAMES.assist,
      offerReceivedPayload({
        workgroup: bareJid(String(stanza.attrs.from)),
        offerId: o.offerId,
        requestId: o.requestId,
        from: o.userJid,
        metadata: o.metadata,
        timeoutSeconds: o.timeoutSeconds,
      }),
      { durable: true },
    );
    return true;
  }

  async #revoke(session: UserSession, stanza: Element, el: Element): Promise<boolean | undefined> {
    if (!this.#fromService(stanza.attrs.from)) return undefined;
    const o = readOffer(el);
    await this.deps.hub.publish(
      session.username,
      EVENT_NAMES.assist,
      offerRevokedPayload({
        workgroup: bareJid(String(stanza.attrs.from)),
        offerId: o.offerId,
        from: o.userJid,
        reason: o.reason,
      }),
      { durable: true },
    );
    return true;
  }

  /** Presence from a workgroup: queue summaries for the agent (ephemeral); never a contact's presence. */
  async onPresence(session: UserSession, p: Element): Promise<boolean> {
    if (!this.#fromService(p.attrs.from)) return false;
    const from = String(p.attrs.from);
    const to = String(p.attrs.to ?? session.fullJid);
    const queue = p.getChild('notify-queue', NS.workgroup);
    if (queue)
      await this.deps.hub.publish(
        session.username,
        EVENT_NAMES.ask,
        notifyQueuePayload(from, to, from, readNotifyQueue(queue)),
        { durable: false },
      );
    const details = p.getChild('notify-queue-details', NS.workgroup);
    for (const u of details ? readNotifyQueueDetails(details) : []) {
      await this.deps.hub.publish(
        session.username,
        EVENT_NAMES.ask,
        notifyQueueDetailsPayload(from, to, from, u),
        { durable: false },
      );
    }
    return true;
  }

  /** Agent presence to the workgroup; resolves with the workgroup's answer (403 not a member, 404 no such workgroup). */
  async goOnDuty(session: UserSession, workgroupJid: string, duty: Duty): Promise<DutyAnswer> {
    // The answer is the presence with <agent-status/> (queue presences from the workgroup may come first).
    const answer = this.#awaitPresence(
      session,
      workgroupJid,
      (p) =>
        p.attrs.type === 'error' ||
        (p.attrs.type === undefined && p.getChild('agent-status', NS.workgroup) !== undefined),
    );
    await session.send(agentPresence(workgroupJid, duty)).catch((err: unknown) => {
      answer.catch(() => undefined);
      throw err;
    });
    const p = await answer;
    if (p.attrs.type === 'error') throw fromStanzaError(readStanzaError(p), 'going on duty');
    const status = p.getChild('agent-status', NS.workgroup);
    let duties = this.#duty.get(session.streamId);
    if (!duties) this.#duty.set(session.streamId, (duties = new Map()));
    duties.set(workgroupJid, duty);
    this.deps.memory
      ?.remember(session.streamId, workgroupJid, duty)
      .catch((err) => this.deps.log.warn({ err, workgroupJid }, 'could not remember duty'));
    return {
      maxChats: Number(status?.getChildText('max-chats') ?? duty.maxChats ?? 0),
      currentChats: Number(status?.getChildText('current-chats') ?? 0),
    };
  }

  async goOffDuty(session: UserSession, workgroupJid: string): Promise<void> {
    this.#duty.get(session.streamId)?.delete(workgroupJid);
    this.deps.memory
      ?.forget(session.streamId, workgroupJid)
      .catch((err) => this.deps.log.warn({ err, workgroupJid }, 'could not forget duty'));
    // The workgroup echoes unavailable once the agent is off duty; a slow answer is not an error.
    const answer = this.#awaitPresence(session, workgroupJid, (p) => p.attrs.type === 'unavailable').catch(
      () => undefined,
    );
    await session.send(xml('presence', { to: workgroupJid, type: 'unavailable' }));
    await answer;
  }

  dutyOf(session: UserSession): Map<string, Duty> {
    return this.#duty.get(session.streamId) ?? new Map();
  }

  /** A session restored after a gateway restart: what it was on duty in, announced again once it is ready. */
  async restore(session: UserSession): Promise<void> {
    const remembered = (await this.deps.memory?.recall(session.streamId)) ?? [];
    if (remembered.length)
      this.#duty.set(session.streamId, new Map(remembered.map(({ key, value }) => [key, value])));
  }

  /** After a reconnect that lost the XMPP session, the server forgot the directed presence: announce it again. */
  async reannounce(session: UserSession): Promise<void> {
    for (const [wg, duty] of this.dutyOf(session)) {
      await this.goOnDuty(session, wg, duty).catch((err) =>
        this.deps.log.warn({ err, wg }, 'could not go back on duty'),
      );
    }
  }

  async answer(
    session: UserSession,
    workgroupJid: string,
    kind: 'offer-accept' | 'offer-reject',
    offerId: string,
  ): Promise<void> {
    await session.iq(answerIq(workgroupJid, kind, { offerId }), 10_000, kind);
  }

  async workgroups(session: UserSession): Promise<{ jid: string; name: string; description?: string }[]> {
    const res = await session.iq(
      xml(
        'iq',
        { type: 'get', to: this.deps.serviceDomain },
        xml('workgroups', { xmlns: NS.workgroup, jid: session.bareJid }),
      ),
      10_000,
      'workgroups',
    );
    const el = res.getChild('workgroups', NS.workgroup);
    return el ? readWorkgroups(el) : [];
  }

  /** Waits (on the raw stanza stream, before any router queue) for the workgroup's presence answer. */
  #awaitPresence(
    session: UserSession,
    workgroupJid: string,
    match: (p: Element) => boolean,
  ): Promise<Element> {
    return new Promise((resolve, reject) => {
      const onStanza = (el: Element): void => {
        if (
          el.name !== 'presence' ||
          normalizeJid(String(el.attrs.from ?? '')) !== workgroupJid ||
          !match(el)
        )
          return;
        done();
        resolve(el);
      };
      const timer = setTimeout(() => {
        done();
        reject(new BridgeError('XMPP_TIMEOUT', `${workgroupJid} did not answer the agent presence`));
      }, DUTY_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        session.off('stanza', onStanza);
      };
      session.on('stanza', onStanza);
    });
  }
}
