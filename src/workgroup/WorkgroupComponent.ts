import xml, { type Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import { toStanzaError } from '../errors/toStanzaError.js';
import type { ComponentConnection } from '../xmpp/component/createComponent.js';
import { NS } from '../xmpp/ns.js';
import type { Dispatcher } from './Dispatcher.js';
import type { ChatRooms } from './ChatRooms.js';
import type { QueueNotifier } from './QueueNotifier.js';
import type { RequestStore } from './RequestStore.js';
import type { WorkgroupStore } from './WorkgroupStore.js';
import {
  agentStatusReply,
  queueStatus,
  readAgentPresence,
  readMetadata,
  workgroupsResult,
} from './xep0142.js';
import { bareJid } from '../xmpp/jid.js';

export interface WorkgroupComponentDeps {
  component: ComponentConnection;
  dispatcher: Dispatcher;
  rooms: ChatRooms;
  notifier: QueueNotifier;
  workgroups: WorkgroupStore;
  requests: RequestStore;
  log: Log;
}

/**
 * The XEP-0142 side of `workgroup.<domain>`: what users and agents say to `<wg>@workgroup.<domain>`.
 * IQ handlers throw BridgeErrors; createComponent answers them with the error table's condition
 * (unknown workgroup → item-not-found, not a member → forbidden, already queued → conflict, …).
 *   https://xmpp.org/extensions/xep-0142.html
 */
export class WorkgroupComponent {
  readonly domain: string;
  constructor(private readonly deps: WorkgroupComponentDeps) {
    this.domain = deps.component.domain;
    const c = deps.component;
    c.onIq('set', NS.workgroup, 'join-queue', (iq) => this.#joinQueue(iq.from, iq.to, iq.element));
    c.onIq('set', NS.workgroup, 'depart-queue', (iq) => this.#departQueue(iq.from, iq.to));
    c.onIq('get', NS.workgroup, 'queue-status', (iq) => this.#queueStatus(iq.from, iq.to));
    c.onIq('set', NS.workgroup, 'offer-accept', (iq) => this.#answer('accept', iq.from, iq.to, iq.element));
    c.onIq('set', NS.workgroup, 'offer-reject', (iq) => this.#answer('reject', iq.from, iq.to, iq.element));
    c.onIq('get', NS.workgroup, 'workgroups', (iq) => this.#workgroups(iq.from, iq.to));
    c.onIq('get', NS.discoInfo, 'query', (iq) => this.#discoInfo(iq.to));
    c.onIq('get', NS.discoItems, 'query', (iq) => this.#discoItems(iq.to));
    c.onStanza((el) => this.#onStanza(el));
  }

  /** `<wg>@workgroup.<domain>` → the workgroup name (404 when the address is not one). */
  async #workgroupOf(to: string): Promise<string> {
    const [local, domain] = bareJid(to).split('@');
    if (!local || domain !== this.domain || !(await this.deps.workgroups.get(local))) {
      throw new BridgeError('NOT_FOUND', `${bareJid(to)} is not a workgroup`);
    }
    return local;
  }

  /** §6.1.1: a user joins the queue; metadata (Fastpath) or a submitted form carries who and what. */
  async #joinQueue(from: string, to: string, el: Element): Promise<void> {
    const workgroup = await this.#workgroupOf(to);
    if (!from.includes('/')) throw new BridgeError('BAD_REQUEST', 'join-queue needs a full JID');
    const metadata = readMetadata(el);
    await this.deps.dispatcher.join({
      workgroup,
      kind: 'xmpp',
      userJid: from,
      userId: (metadata.username || bareJid(from).split('@')[0]!).slice(0, 64),
      email: metadata.email || undefined,
      question: metadata.question || undefined,
      metadata,
    });
  }

  /** §6.1.5: the user leaves the queue; they are told with a depart-queue message as well. */
  async #departQueue(from: string, to: string): Promise<void> {
    const workgroup = await this.#workgroupOf(to);
    const r = await this.deps.requests.waitingOfUser(workgroup, from);
    if (!r || !(await this.deps.dispatcher.cancel(r.id)))
      throw new BridgeError('NOT_FOUND', `${from} is not in the queue of ${workgroup}`);
  }

  async #queueStatus(from: string, to: string): Promise<Element> {
    const workgroup = await this.#workgroupOf(to);
    const r = await this.deps.requests.waitingOfUser(workgroup, from);
    if (!r) throw new BridgeError('NOT_FOUND', `${from} is not in the queue of ${workgroup}`);
    const e = await this.deps.notifier.estimate(r);
    return queueStatus(e.position, e.remainingTime);
  }

  /** offer-accept / offer-reject: by the offer's `id` (Fastpath), else by the user's `jid` (XEP-0142). */
  async #answer(kind: 'accept' | 'reject', from: string, to: string, el: Element): Promise<void> {
    const workgroup = await this.#workgroupOf(to);
    const ref = {
      offerId: typeof el.attrs.id === 'string' && el.attrs.id ? el.attrs.id : undefined,
      userJid: typeof el.attrs.jid === 'string' ? el.attrs.jid : undefined,
    };
    if (kind === 'accept') await this.deps.dispatcher.accept(workgroup, from, ref);
    else await this.deps.dispatcher.reject(workgroup, from, ref);
  }

  /** The workgroups an agent belongs to (asked of the service itself, as Smack's Agent does). */
  async #workgroups(from: string, to: string): Promise<Element> {
    if (bareJid(to) !== this.domain) throw new BridgeError('NOT_FOUND', 'ask the workgroup service itself');
    const agent = bareJid(from);
    const list = await this.deps.workgroups.workgroupsOf(agent);
    return workgroupsResult(
      agent,
      list.map((w) => ({ jid: `${w.name}@${this.domain}`, name: w.name, description: w.description })),
    );
  }

  async #discoInfo(to: string): Promise<Element> {
    const isService = bareJid(to) === this.domain;
    const name = isService ? 'Workgroups' : await this.#workgroupOf(to);
    return xml(
      'query',
      { xmlns: NS.discoInfo },
      xml('identity', { category: 'collaboration', type: 'workgroup', name }),
      xml('feature', { var: NS.workgroup }),
      xml('feature', { var: NS.discoInfo }),
    );
  }

  async #discoItems(to: string): Promise<Element> {
    if (bareJid(to) !== this.domain) return xml('query', { xmlns: NS.discoItems });
    const list = await this.deps.workgroups.list();
    return xml(
      'query',
      { xmlns: NS.discoItems },
      ...list.map((w) => xml('item', { jid: `${w.name}@${this.domain}`, name: w.description ?? w.name })),
    );
  }

  async #onStanza(el: Element): Promise<void> {
    if (this.deps.rooms.onStanza(el)) return;
    const to = String(el.attrs.to ?? '');
    if (el.name !== 'presence' || to.includes('/') || !to.includes('@')) return;
    await this.#agentPresence(el);
  }

  /** §5.1 agent presence: on duty (available, with its show and max-chats) or off duty (unavailable). */
  async #agentPresence(p: Element): Promise<void> {
    const from = String(p.attrs.from ?? '');
    const to = bareJid(String(p.attrs.to));
    const type = p.attrs.type as string | undefined;
    if (type && type !== 'unavailable') return; // probes, subscriptions and errors are not agent state
    try {
      const workgroup = await this.#workgroupOf(to);
      if (type === 'unavailable') {
        await this.deps.dispatcher.offDuty(workgroup, from);
        await this.deps.component.send(xml('presence', { from: to, to: from, type: 'unavailable' }));
        return;
      }
      const status = await this.deps.dispatcher.onDuty(workgroup, from, readAgentPresence(p));
      await this.deps.component.send(agentStatusReply(to, from, status));
    } catch (err) {
      if (type === 'unavailable') return;
      if (!(err instanceof BridgeError) || err.status >= 500)
        this.deps.log.warn({ err, from }, 'agent presence failed');
      await this.deps.component
        .send(xml('presence', { from: to, to: from, type: 'error' }, toStanzaError(err)))
        .catch(() => undefined);
    }
  }
}
