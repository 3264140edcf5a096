import xml, { type Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { EventHub } from '../sse/EventHub.js';
import type { SendPolicy } from '../moderation/ports.js';
import { withEnvelope } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import type { ContactsState } from './ContactsState.js';
import type { PresenceEvent, Show } from './presence.js';
import {
  buildRosterGet,
  buildRosterRemove,
  buildRosterSet,
  parseRosterQuery,
  toContact,
  type ContactItem,
  type RosterItem,
} from './roster.js';
import type { SubscriptionRequestStore } from './SubscriptionRequestStore.js';
import { bareJid } from '../xmpp/jid.js';

export interface RosterDeps {
  hub: EventHub;
  state: ContactsState;
  requests: SubscriptionRequestStore;
  log: Log;
  /** a contact's current presence (PresenceService.live) */
  live: (session: UserSession, bare: string) => { show: Show; status: string | null };
  /** moderation's: a subscription request reaches the contact, so a muted user sends none */
  policy: SendPolicy;
}
export interface ContactInput {
  nickname?: string | null;
  groups?: string[];
}

/**
 * The roster (RFC 6121 §2) and presence subscriptions (§3), with the user in charge: a subscription
 * request is an event the user answers (approve / deny), never accepted silently.
 */
export class RosterService {
  constructor(private readonly deps: RosterDeps) {}

  /** Fetches the roster; called when the session is ready and lazily by the routes. */
  async load(session: UserSession): Promise<Map<string, RosterItem>> {
    const result = await session.iq(buildRosterGet(), 10_000, 'roster get');
    const roster = new Map(parseRosterQuery(result.getChild('query', NS.roster)).map((i) => [i.jid, i]));
    this.deps.state.of(session).roster = roster;
    return roster;
  }

  async #roster(session: UserSession): Promise<Map<string, RosterItem>> {
    return this.deps.state.of(session).roster ?? this.load(session);
  }

  contact(session: UserSession, item: RosterItem): ContactItem {
    return toContact(item, this.deps.live(session, item.jid));
  }

  async list(session: UserSession, group?: string): Promise<ContactItem[]> {
    const items = [...(await this.#roster(session)).values()].filter(
      (i) => group === undefined || i.groups.includes(group),
    );
    return items.sort((a, b) => a.jid.localeCompare(b.jid)).map((i) => this.contact(session, i));
  }

  async get(session: UserSession, jid: string): Promise<RosterItem> {
    const item = (await this.#roster(session)).get(jid);
    if (!item) throw new BridgeError('NOT_FOUND', `${jid} is not in the contact list`);
    return item;
  }

  /** Adds (or updates) the contact, then asks to see their presence unless already allowed or asked. */
  async add(
    session: UserSession,
    jid: string,
    input: ContactInput,
    subscribe: boolean,
  ): Promise<{ item: ContactItem; created: boolean }> {
    if (subscribe) await this.deps.policy.assertMaySend(session.username);
    const existing = (await this.#roster(session)).get(jid);
    const item = await this.#set(session, jid, {
      nickname: input.nickname ?? existing?.name,
      groups: input.groups ?? existing?.groups ?? [],
    });
    if (subscribe && !['to', 'both'].includes(item.subscription) && !item.pending) {
      await session.send(xml('presence', { to: jid, type: 'subscribe' }));
      item.pending = true;
    }
    return { item: this.contact(session, item), created: !existing };
  }

  async update(session: UserSession, jid: string, input: ContactInput): Promise<ContactItem> {
    const existing = await this.get(session, jid);
    const nickname = input.nickname === undefined ? existing.name : (input.nickname ?? undefined);
    return this.contact(
      session,
      await this.#set(session, jid, { nickname, groups: input.groups ?? existing.groups }),
    );
  }

  async #set(
    session: UserSession,
    jid: string,
    v: { nickname?: string | null; groups: string[] },
  ): Promise<RosterItem> {
    await session.iq(buildRosterSet(jid, v.nickname ?? undefined, v.groups), 10_000, 'roster set');
    const roster = await this.#roster(session);
    // The server pushes the stored item before it answers; keep ours in step if the push was lost.
    const item: RosterItem = {
      subscription: 'none',
      pending: false,
      ...roster.get(jid),
      jid,
      groups: v.groups,
    };
    if (v.nickname) item.name = v.nickname;
    else delete item.name;
    roster.set(jid, item);
    return item;
  }

  async remove(session: UserSession, jid: string): Promise<void> {
    await this.get(session, jid);
    await session.iq(buildRosterRemove(jid), 10_000, 'roster remove');
    this.deps.state.of(session).roster?.delete(jid);
    await this.deps.requests.remove(session.username, jid);
  }

  /** Approve: let them see the user's presence, and ask for theirs in return (mutual, as IM users expect). */
  async approve(session: UserSession, jid: string): Promise<void> {
    await session.send(xml('presence', { to: jid, type: 'subscribed' }));
    const item = (await this.#roster(session)).get(jid);
    if (!item || (!['to', 'both'].includes(item.subscription) && !item.pending)) {
      await session.send(xml('presence', { to: jid, type: 'subscribe' }));
    }
    await this.deps.requests.remove(session.username, jid);
  }

  /** Deny a request, or revoke a subscription granted earlier. */
  async deny(session: UserSession, jid: string): Promise<void> {
    await session.send(xml('presence', { to: jid, type: 'unsubscribed' }));
    await this.deps.requests.remove(session.username, jid);
  }

  pending(session: UserSession) {
    return this.deps.requests.list(session.username);
  }

  /**
   * Subscription presence from a contact → a durable chatapi.presence event. A request is stored once,
   * however often the server re-sends it (it does on every login until answered).
   */
  async onSubscription(session: UserSession, event: PresenceEvent): Promise<void> {
    const payload = { ...event, to: session.bareJid };
    if (event.type === 'subscribe') {
      // Through ordered(): its event id is drawn inside the transaction, and a roster push handled
      // meanwhile (IQs are not serialised with presence) could otherwise reach the streams first with a
      // higher id, after which a stream drops this one as old (DeliveryOrder).
      const stored = await this.deps.hub.ordered(session.username, () =>
        this.deps.requests.add(session.username, payload),
      );
      if (stored) this.deps.hub.deliver(session.username, withEnvelope(stored));
      return;
    }
    if (event.type === 'unsubscribe') await this.deps.requests.remove(session.username, event.from);
    await this.deps.hub.publish(session.username, EVENT_NAMES.presence, payload, { durable: true });
  }

  /**
   * Roster push (RFC 6121 §2.1.6): only from the user's own account, else it is a spoof and refused.
   * Each changed item becomes a durable `chatapi.presence` `{type: "roster", item}`, so every tab's
   * contact list follows changes made anywhere (another tab, a native client, a subscription answer).
   */
  async onPush(session: UserSession, stanza: Element): Promise<Element | true> {
    const from = stanza.attrs.from as string | undefined;
    if (from && bareJid(from) !== session.bareJid)
      return xml('error', { type: 'cancel' }, xml('service-unavailable', NS.stanzas));
    const roster = this.deps.state.of(session).roster;
    for (const item of parseRosterQuery(stanza.getChild('query', NS.roster))) {
      if (item.subscription === 'remove') roster?.delete(item.jid);
      else roster?.set(item.jid, item);
      if (item.subscription === 'from' || item.subscription === 'both')
        await this.deps.requests.remove(session.username, item.jid);
      const payload = { type: 'roster', to: session.bareJid, item: this.contact(session, item) };
      await this.deps.hub.publish(session.username, EVENT_NAMES.presence, payload, { durable: true });
    }
    return true;
  }
}
