import type { Element } from '@xmpp/xml';
import type { Feature, GatewayContext } from '../feature.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import type { SendPolicy } from '../moderation/ports.js';
import { UserSession, type SessionState } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { RawStanzaService } from '../raw/RawStanzaService.js';
import { rawRoutes } from '../raw/rawRoutes.js';
import { ProfileService } from '../users/ProfileService.js';
import { UserDirectory } from '../users/UserDirectory.js';
import { userRoutes } from '../users/userRoutes.js';
import { BlockingService } from './BlockingService.js';
import { contactRoutes } from './contactRoutes.js';
import { ContactsState } from './ContactsState.js';
import { PresenceService } from './PresenceService.js';
import { RosterService } from './RosterService.js';
import { createPgSubscriptionRequestStore } from './SubscriptionRequestStore.js';

/** what @xmpp/iq's callee hands a handler: the stanza, and the client it came in on */
type Pushed = { stanza: Element; entity: object };

/**
 * Contacts and presence of the chat core: own presence and contacts' presence (with a snapshot on
 * every stream connect), the roster and subscription answers, blocking (XEP-0191), the user
 * directory and profile properties, and ofchat's raw stanza endpoint. See docs/api/contacts.md.
 */
export type ContactsFeatureDeps = Pick<
  GatewayContext,
  'config' | 'log' | 'db' | 'hub' | 'stanzas' | 'admin'
> & {
  sessions: Pick<SessionManager, 'onSessionCreated' | 'onSessionReady' | 'byUser'>;
  sendPolicy: SendPolicy;
};

export function createContactsFeature(ctx: ContactsFeatureDeps): Feature {
  const { hub, sessions, stanzas, log, config } = ctx;
  const domain = config.xmpp.domain;
  const state = new ContactsState();
  const requests = createPgSubscriptionRequestStore(ctx.db, hub.store);
  // Each needs the other, late-bound: contacts show live presence; presence hands subscriptions over.
  const roster: RosterService = new RosterService({
    hub,
    state,
    requests,
    log,
    policy: ctx.sendPolicy,
    live: (s, jid) => presence.live(s, jid),
  });
  const presence: PresenceService = new PresenceService({
    hub,
    state,
    log,
    mucService: config.xmpp.mucService,
    policy: ctx.sendPolicy,
    onSubscription: (s, e) => roster.onSubscription(s, e),
  });
  const blocking = new BlockingService({ hub });

  // Every presence nobody else claims (rooms own their occupants', the workgroup its queue summaries).
  stanzas.on({ feature: 'contacts', kind: 'presence' }, (session, el) => presence.handle(session, el));
  sessions.onSessionCreated((session) => attach(session));
  sessions.onSessionReady(async (session, resumed) => {
    await presence.ready(session, resumed);
  });
  hub.addSnapshot((username) => {
    const session = sessions.byUser(username);
    return session ? presence.snapshotEvents(session) : [];
  });

  // One handler of each kind for every session (found from its client, or as the listener's `this`),
  // not closures per session: 10,000 sessions is the goal (bench/JOURNAL.md, "Memory at 10,000 sessions").
  const onRosterPush = (c: Pushed) => {
    const session = UserSession.ofClient(c.entity);
    return session && roster.onPush(session, c.stanza);
  };
  const onBlockingPush = (c: Pushed) => {
    const session = UserSession.ofClient(c.entity);
    return session && blocking.onPush(session, c.stanza);
  };
  const loadRoster = (session: UserSession) => roster.load(session);
  function onState(this: UserSession, next: SessionState): void {
    if (next === 'reconnecting') presence.dropped(this);
    if (next === 'offline') state.forget(this.streamId);
  }

  /** IQ pushes are answered through the client's iqCallee, which otherwise replies service-unavailable. */
  function attach(session: UserSession): void {
    const iq = session.client.iqCallee;
    iq.set(NS.roster, 'query', onRosterPush);
    iq.set(NS.blocking, 'block', onBlockingPush);
    iq.set(NS.blocking, 'unblock', onBlockingPush);
    // Before every initial presence (login and each reconnect that could not resume): Prosody sends
    // subscription requests and roster pushes only to sessions that fetched the roster, and answers the
    // initial presence with the contacts' presence (RFC 6121 §4.2.2). No probes of our own: the stanza
    // handlers are attached before the connection opens (SessionConnector#start), so no answer is missed.
    session.beforePresence(loadRoster);
    session.on('state', onState);
  }

  return {
    name: 'contacts',
    routes(router, access) {
      userRoutes(router, access, {
        directory: new UserDirectory({ db: ctx.db, domain, log }),
        profiles: new ProfileService(),
        admin: ctx.admin,
        domain,
      });
      contactRoutes(router, access, { presence, roster, blocking, domain });
      rawRoutes(router, access, new RawStanzaService({ domain, policy: ctx.sendPolicy }));
    },
  };
}
