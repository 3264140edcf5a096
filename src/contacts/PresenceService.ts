import type { Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES, type DeliveredEvent } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import type { ContactsState } from './ContactsState.js';
import type { SendPolicy } from '../moderation/ports.js';
import {
  buildOwnPresence,
  DEFAULT_PRESENCE,
  presenceEvent,
  SUBSCRIPTION_TYPES,
  type OwnPresence,
  type PresenceEvent,
  type Show,
} from './presence.js';
import { bareJid, domainOf } from '../xmpp/jid.js';

export type SubscriptionListener = (session: UserSession, event: PresenceEvent) => Promise<void>;
export interface PresenceDeps {
  hub: EventHub;
  state: ContactsState;
  log: Log;
  onSubscription: SubscriptionListener;
  /** the MUC service's domain: all presence from it (occupants, join errors) belongs to the rooms feature */
  mucService: string;
  /** moderation's: a muted or disabled user cannot change the presence (status text) others see */
  policy: SendPolicy;
}

/**
 * The user's own presence and the live presence of everyone who sends them theirs.
 * References: RFC 6121 §4 (exchanging presence), §4.2.2 (initial presence triggers probes).
 */
export class PresenceService {
  constructor(private readonly deps: PresenceDeps) {}

  /** Stanza handler: the presence no other feature claimed (room presence never reaches it; checked anyway). */
  async handle(session: UserSession, el: Element): Promise<boolean> {
    if (this.#fromRoom(el)) return false;
    const event = presenceEvent(el, session.fullJid);
    if (!event) return true; // a probe: the server answers those, not clients
    if (event.from === session.fullJid) return true; // our own broadcast, reflected (RFC 6121 §4.2.2)
    if (SUBSCRIPTION_TYPES.includes(event.type)) {
      await this.deps.onSubscription(session, { ...event, from: bareJid(event.from) });
      return true;
    }
    if (event.type === 'available' || event.type === 'unavailable') this.#remember(session, event);
    await this.deps.hub.publish(session.username, EVENT_NAMES.presence, event, { durable: false });
    return true;
  }

  /** muc#user marks occupant presence from any service; a join error carries no muc#user, so the domain decides. */
  #fromRoom(el: Element): boolean {
    if (el.getChild('x', NS.mucUser)) return true;
    return domainOf(String(el.attrs.from ?? '')) === this.deps.mucService;
  }

  #remember(session: UserSession, event: PresenceEvent): void {
    const cache = this.deps.state.of(session).presence;
    if (event.type === 'available') {
      cache.set(event.from, { event, at: Date.now() });
      return;
    }
    cache.delete(event.from);
    // An unavailable from a bare JID (servers send it when a subscription is cancelled) covers every resource.
    if (!event.from.includes('/'))
      for (const key of [...cache.keys()]) if (bareJid(key) === event.from) cache.delete(key);
  }

  /** Sends and remembers the user's presence, so it survives a reconnect. */
  async set(session: UserSession, own: OwnPresence): Promise<OwnPresence> {
    await this.deps.policy.assertMaySend(session.username);
    await session.send(buildOwnPresence(own));
    this.deps.state.of(session).own = own;
    return own;
  }

  own(session: UserSession): OwnPresence {
    return this.deps.state.of(session).own;
  }

  dropped(session: UserSession): void {
    this.deps.state.of(session).droppedAt = Date.now();
  }

  /**
   * After a reconnect that could not resume: the server forgot everything, so presence cached before
   * the drop is stale (fresh presence arrives in answer to the new initial presence), and a presence the
   * user set is sent again (UserSession always sends a plain available one first).
   */
  async ready(session: UserSession, resumed: boolean): Promise<void> {
    const s = this.deps.state.of(session);
    if (resumed) return;
    const droppedAt = s.droppedAt;
    if (droppedAt !== undefined) for (const [k, v] of s.presence) if (v.at <= droppedAt) s.presence.delete(k);
    if (s.own !== DEFAULT_PRESENCE) await session.send(buildOwnPresence(s.own));
  }

  /** The best current presence of a bare JID (highest priority), or offline. */
  live(session: UserSession, bare: string): { show: Show; status: string | null } {
    let best: PresenceEvent | undefined;
    for (const { event } of this.deps.state.of(session).presence.values()) {
      if (bareJid(event.from) !== bare) continue;
      if (!best || (event.priority ?? 0) >= (best.priority ?? 0)) best = event;
    }
    return best ? { show: best.show, status: best.status } : { show: 'offline', status: null };
  }

  /**
   * Current presence of every contact: each available resource, and an `unavailable` entry for each
   * roster contact with none, all marked `snapshot: true`.
   */
  snapshot(session: UserSession): PresenceEvent[] {
    const s = this.deps.state.of(session);
    const out: PresenceEvent[] = [];
    const seen = new Set<string>();
    for (const { event } of s.presence.values()) {
      out.push({ ...event, snapshot: true });
      seen.add(bareJid(event.from));
    }
    for (const jid of s.roster?.keys() ?? []) {
      if (seen.has(jid)) continue;
      out.push({
        type: 'unavailable',
        from: jid,
        to: session.bareJid,
        show: 'offline',
        status: null,
        snapshot: true,
      });
    }
    return out;
  }

  snapshotEvents(session: UserSession): DeliveredEvent[] {
    return this.snapshot(session).map((payload) => ({ name: EVENT_NAMES.presence, payload }));
  }
}
