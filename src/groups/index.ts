import xml, { type Element } from '@xmpp/xml';
import type { Feature, GatewayContext } from '../feature.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { bareJid } from '../xmpp/jid.js';
import { GroupIndex } from './GroupIndex.js';
import { GroupPresence, WATCH_GROUP } from './GroupPresence.js';
import { NS } from '../xmpp/ns.js';
import { GroupService } from './GroupService.js';
import { GroupStore } from './GroupStore.js';
import { groupRoutes } from './routes.js';

/** How Parley's admin JID appears in a member's roster (roster group WATCH_GROUP). */
const WATCHER_NAME = 'Organisation presence';
/** Writes through another gateway instance reach this one's membership index within this time. */
const REFRESH_MS = 30_000;

/**
 * Organisation presence (the Chatta seed): organisations with sites and members with profile fields (admin
 * API), who of them is online (`GET /groups/{group}/members?online=true`), and `chatapi.group` events to
 * every member's streams when one comes online, goes offline or changes, with a snapshot on every stream
 * connect. Presence comes from the XMPP server through Parley's admin session (GroupPresence), so members on
 * native clients count too. See docs/api/groups.md.
 */
export type GroupsFeatureDeps = Pick<
  GatewayContext,
  'config' | 'log' | 'db' | 'hub' | 'stanzas' | 'admin' | 'sessions'
>;

export function createGroupsFeature(ctx: GroupsFeatureDeps): Feature {
  const log = ctx.log.child({ c: 'groups' });
  const domain = ctx.config.xmpp.domain;
  const store = new GroupStore(ctx.db);
  const index = new GroupIndex(store);
  const presence = ctx.admin
    ? new GroupPresence({
        admin: ctx.admin,
        log,
        watched: () => index.usernames().map((u) => `${u}@${domain}`),
      })
    : undefined;
  const groups = new GroupService({ store, index, presence, hub: ctx.hub, domain, log });
  ctx.hub.addSnapshot((username) => groups.snapshot(username));

  // The admin session's subscription request is Parley's own: a member's Parley session approves it (the
  // trust rule XEP-0353 and RFC 6121 leave to the client), so the user is never asked.
  if (presence)
    ctx.stanzas.on(
      { feature: 'groups', kind: 'presence', from: (from) => bareJid(from) === presence.adminJid },
      async (session: UserSession, el: Element) => {
        if (el.attrs.type !== 'subscribe' || !index.groupsOf(session.username).length) return false;
        // Named and grouped in the member's roster, so clients can tell it from a person (the web client hides it).
        const item = xml(
          'item',
          { jid: presence.adminJid, name: WATCHER_NAME },
          xml('group', {}, WATCH_GROUP),
        );
        void session
          .iq(xml('iq', { type: 'set' }, xml('query', { xmlns: NS.roster }, item)), 10_000, 'roster set')
          .catch((err: unknown) => log.debug({ err }, 'groups: naming the watcher in the roster failed'));
        await session.send(xml('presence', { to: presence.adminJid, type: 'subscribed' }));
        return true;
      },
    );

  // A member's first login may be what created the account, after the admin's request was sent: ask again.
  if (presence)
    ctx.sessions.onSessionReady(async (session, resumed) => {
      if (resumed || !index.groupsOf(session.username).length) return;
      await presence
        .rewatch(`${session.username}@${domain}`)
        .catch((err: unknown) => log.debug({ err }, 'groups: asking again for a member’s presence failed'));
    });

  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    name: 'groups',
    routes: (router, access) => groupRoutes(router, access, groups),
    async start() {
      await index.reload();
      presence?.start();
      timer = setInterval(() => {
        index.reload().catch((err: unknown) => log.warn({ err }, 'groups: index reload failed'));
      }, REFRESH_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
    },
  };
}
