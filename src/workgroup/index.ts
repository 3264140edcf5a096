import type { Feature, GatewayContext } from '../feature.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import { createComponent } from '../xmpp/component/createComponent.js';
import { AgentDesk } from './AgentDesk.js';
import { SessionMemory } from '../sessions/SessionMemory.js';
import { AgentSide, type Duty } from './AgentSide.js';
import { AskService } from './AskService.js';
import { ChatRooms } from './ChatRooms.js';
import { Dispatcher } from './Dispatcher.js';
import { QueueNotifier } from './QueueNotifier.js';
import { RequestStore } from './RequestStore.js';
import { TimerSet, systemClock } from './timers.js';
import { WorkgroupAdmin } from './WorkgroupAdmin.js';
import { WorkgroupComponent } from './WorkgroupComponent.js';
import { WorkgroupStore } from './WorkgroupStore.js';
import { revokeIq } from './xep0142.js';
import { REVOKE } from './routing.js';
import { adminRoutes } from './routes/adminRoutes.js';
import { agentRoutes } from './routes/agentRoutes.js';
import { askRoutes } from './routes/askRoutes.js';
import { wirePorts } from './ports.js';

/**
 * Expert queues (XEP-0142 workgroups with Openfire Fastpath's routing): the `workgroup.<domain>`
 * component, its Postgres state, the visitor (`/ask`) and agent (`/chat/{streamid}/assists`, `/offer`)
 * routes, and the agent side of every Parley session. See docs/api/workgroups.md.
 * Presence from the workgroups (queue summaries for agents) is this feature's, never a contact's.
 */
export type WorkgroupFeatureDeps = Pick<
  GatewayContext,
  'config' | 'log' | 'db' | 'hub' | 'stanzas' | 'limiter'
> & {
  sessions: Pick<SessionManager, 'onSessionCreated' | 'onSessionRestored' | 'onSessionReady'>;
};

export function createWorkgroupFeature(ctx: WorkgroupFeatureDeps): Feature {
  const log = ctx.log.child({ c: 'workgroup' });
  const x = ctx.config.xmpp;
  const serviceDomain = `workgroup.${x.domain}`;
  const component = createComponent({
    service: x.componentService,
    domain: serviceDomain,
    secret: x.componentSecret ?? '',
    reconnectMaxSeconds: x.reconnectMaxSeconds,
    log,
  });
  const workgroups = new WorkgroupStore(ctx.db);
  const askLimits = ctx.config.limits.ask;
  const requests = new RequestStore(ctx.db);
  const timers = new TimerSet(systemClock);
  const notifier = new QueueNotifier({
    requests,
    workgroups,
    hub: ctx.hub,
    component,
    serviceDomain,
    clock: systemClock,
    log,
  });
  // eslint-disable-next-line prefer-const -- assigned below: ChatRooms calls back into the dispatcher built after it
  let dispatcher!: Dispatcher;
  // Only one instance can hold the component (XMPP servers refuse a second connection): the others stand
  // by, retrying. Recovery waits until this instance holds it, or it would undo the live instance's offers;
  // no offer goes out before it has run.
  let recovered = false;
  const rooms = new ChatRooms({
    component,
    requests,
    hub: ctx.hub,
    log,
    serviceDomain,
    mucService: x.mucService,
    address: (r) => notifier.address(r),
    ended: (id, reason) => dispatcher.chatEnded(id, reason),
    closingText: async (wg) => (await workgroups.get(wg))?.closingText,
  });
  dispatcher = new Dispatcher({
    workgroups,
    requests,
    timers,
    clock: systemClock,
    log,
    queueMax: askLimits.queueMax,
    ports: wirePorts({ component, notifier, rooms, serviceDomain, log, ready: () => recovered }),
  });
  new WorkgroupComponent({ component, dispatcher, rooms, notifier, workgroups, requests, log });

  const side = new AgentSide({
    hub: ctx.hub,
    serviceDomain,
    log,
    memory: new SessionMemory<Duty>(ctx.db, 'workgroup-duty'),
  });
  ctx.sessions.onSessionCreated((session) => side.attach(session));
  ctx.sessions.onSessionRestored((session) => side.restore(session));
  ctx.sessions.onSessionReady(async (session, resumed) => {
    if (!resumed) await side.reannounce(session);
  });
  ctx.stanzas.on(
    { feature: 'workgroup', kind: 'presence', from: (jid) => side.isService(jid) },
    (session, el) => side.onPresence(session, el),
  );

  const enabled = Boolean(x.componentSecret);
  return {
    name: 'workgroup',
    routes(router, access) {
      adminRoutes(
        router,
        new WorkgroupAdmin({ workgroups, requests, dispatcher, serviceDomain, domain: x.domain }),
      );
      askRoutes(router, {
        ask: new AskService({ dispatcher, requests, workgroups, rooms, notifier, component, serviceDomain }),
        hub: ctx.hub,
        log: log.child({ c: 'sse' }),
        heartbeatMs: ctx.config.sessions.heartbeatSeconds * 1000,
        tickets: access.tickets,
        publicUrl: ctx.config.http.publicUrl,
        rate: {
          perIp: ctx.limiter('ask-ip', { points: askLimits.perIpPerMinute, duration: 60 }),
          perWorkgroup: ctx.limiter('ask-wg', { points: askLimits.perWorkgroupPerMinute, duration: 60 }),
        },
        requireWorkgroup: (name) => workgroups.require(name),
      });
      agentRoutes(router, access, {
        desk: new AgentDesk({ side, workgroups, requests, hub: ctx.hub, serviceDomain }),
        requests,
        domain: x.domain,
      });
    },
    async start() {
      if (!enabled) {
        log.info('XMPP_COMPONENT_SECRET is not set: the workgroup service is off');
        return;
      }
      const stale: Awaited<ReturnType<Dispatcher['recover']>> = [];
      // After every (re)connect: revoke what a previous run left open, re-enter live chats, route again.
      component.onOnline(async () => {
        if (!recovered) {
          stale.push(...(await dispatcher.recover()));
          recovered = true;
        }
        for (const { offer, request } of stale.splice(0)) {
          await component
            .iq(
              revokeIq(`${offer.workgroup}@${serviceDomain}`, offer.agentFull, {
                offerId: offer.id,
                userJid: request.userJid,
                reason: REVOKE.restarted,
              }),
              5000,
            )
            .catch(() => undefined);
        }
        await rooms.rejoin(await requests.withStatus(['routed']));
        await dispatcher.dispatchAll();
      });
      await component.start();
    },
    async stop() {
      timers.clearAll();
      await component.stop();
      // What arrived before the component closed still lands in the database, which closes after us.
      await rooms.drain();
      await dispatcher.drain();
      timers.clearAll();
    },
  };
}
