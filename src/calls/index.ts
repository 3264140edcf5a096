import type { Feature, FeatureContext } from '../features.js';
import { CallEngine } from './CallEngine.js';
import { CallInbound } from './CallInbound.js';
import { CallService } from './CallService.js';
import { CallStore } from './CallStore.js';
import { CapabilityService } from './CapabilityService.js';
import { callRoutes } from './routes.js';

/**
 * Call signalling over XEP-0353 Jingle Message Initiation: propose, ringing, accept, decline and end
 * through REST, `chatapi.call` events on every stream of both parties, carbons from the user's other
 * clients, missed calls after PARLEY_CALL_RING_SECONDS, history in Postgres, and which contacts can
 * take calls (disco caps). Parley signals only: the media happen in the room the call's options name.
 * See the README.
 */
export function createCallsFeature(ctx: FeatureContext): Feature {
  const log = ctx.log.child({ c: 'calls' });
  const domain = ctx.config.xmpp.domain;
  const ringMs = ctx.config.calls.ringSeconds * 1000;
  const store = new CallStore({ db: ctx.db, events: ctx.hub.store });
  const engine = new CallEngine({ store, hub: ctx.hub, sessions: ctx.sessions, log, ringMs });
  const calls = new CallService({ engine, store, domain, ringMs });
  const inbound = new CallInbound({ engine, ringMs });
  const caps = new CapabilityService({ log, mucService: ctx.config.xmpp.mucService });

  // Chat leaves body-less messages without states, receipts or data alone, so JMI messages reach us.
  ctx.stanzas.on('message', 'calls', (session, stanza) => inbound.onMessage(session, stanza));
  ctx.stanzas.on('presence', 'calls', (session, stanza) => caps.onPresence(session, stanza));
  ctx.sessions.onSessionCreated((session) => caps.attach(session));

  return {
    name: 'calls',
    routes: (router, access) => callRoutes(router, access, { calls, caps, domain }),
    start: () => engine.start(),
    stop: async () => engine.stop(),
  };
}
