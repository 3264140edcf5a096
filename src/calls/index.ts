import type { Feature, GatewayContext } from '../feature.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import type { SendPolicy } from '../moderation/ports.js';
import { NS } from '../xmpp/ns.js';
import { CallEngine } from './CallEngine.js';
import { CallInbound } from './CallInbound.js';
import { CallService } from './CallService.js';
import { CallStore } from './CallStore.js';
import { CapabilityService } from './CapabilityService.js';
import { callRoutes } from './routes.js';
import type { Element } from '@xmpp/xml';
import type { UserSession } from '../xmpp/client/UserSession.js';

/**
 * Call signalling over XEP-0353 Jingle Message Initiation: propose, ringing, accept, decline and end
 * through REST, `chatapi.call` events on every stream of both parties, carbons from the user's other
 * clients, missed calls after PARLEY_CALL_RING_SECONDS, history in Postgres, and which contacts can
 * take calls (disco caps). Parley signals only: the media happen in the room the call's options name.
 * See docs/api/calls.md.
 */
export type CallsFeatureDeps = Pick<GatewayContext, 'config' | 'log' | 'db' | 'hub' | 'stanzas'> & {
  sessions: Pick<SessionManager, 'onSessionCreated' | 'byUser'>;
  sendPolicy: SendPolicy;
};

export function createCallsFeature(ctx: CallsFeatureDeps): Feature {
  const log = ctx.log.child({ c: 'calls' });
  const domain = ctx.config.xmpp.domain;
  const ringMs = ctx.config.calls.ringSeconds * 1000;
  const store = new CallStore({ db: ctx.db, events: ctx.hub.store });
  const engine = new CallEngine({ store, hub: ctx.hub, sessions: ctx.sessions, log, ringMs });
  const calls = new CallService({ engine, store, domain, ringMs, policy: ctx.sendPolicy });
  const inbound = new CallInbound({ engine, ringMs });
  const caps = new CapabilityService({ log, mucService: ctx.config.xmpp.mucService });

  // Call signalling wherever it arrives from (live, carbon, archive), and the bounces of our proposals.
  const onMessage = (session: UserSession, stanza: Element) => inbound.onMessage(session, stanza);
  ctx.stanzas.on({ feature: 'calls', kind: 'message', ns: NS.jingleMessage }, onMessage);
  ctx.stanzas.on({ feature: 'calls', kind: 'message', type: 'error' }, onMessage);
  // Capabilities are read off every presence; the presence itself stays the contacts' (or a room's).
  ctx.stanzas.observe('presence', 'calls', (session, stanza) => caps.onPresence(session, stanza));
  ctx.sessions.onSessionCreated((session) => caps.attach(session));

  return {
    name: 'calls',
    routes: (router, access) => callRoutes(router, access, { calls, caps, domain }),
    start: () => engine.start(),
    stop: async () => engine.stop(),
  };
}
