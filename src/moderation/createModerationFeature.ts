import type { Feature, FeatureContext } from '../features.js';
import { AccountBlocks } from './AccountBlocks.js';
import { aclGuard } from './aclGuard.js';
import { actionRoutes } from './actionRoutes.js';
import type { AdminAccess } from './adminAccess.js';
import { AuditLog } from './AuditLog.js';
import { historyRoutes } from './historyRoutes.js';
import { MessageMonitor } from './MessageMonitor.js';
import { ModerationActions } from './ModerationActions.js';
import { monitorRoute } from './monitorRoute.js';
import { reportRoutes } from './reportRoutes.js';
import { ReportService } from './ReportService.js';
import { ReportStore } from './ReportStore.js';

/**
 * Moderation and admin monitoring (README, "Moderation"): complaints, admin history views and export,
 * the live monitor, actions on users and messages, and the audit log. Admin routes take the master
 * secret or a caller listed in PARLEY_ADMIN_JIDS. First in FEATURES so its ACL guard runs before the
 * routes it protects; it handles no stanzas. Nothing connects before a request needs the database.
 */
export function createModerationFeature(ctx: FeatureContext): Feature {
  const log = ctx.log.child({ c: 'moderation' });
  const { xmpp, moderation, sessions: s } = ctx.config;
  const store = new ReportStore(ctx.db);
  const audit = new AuditLog(ctx.db);
  const blocks = new AccountBlocks(ctx.db);
  const monitor = new MessageMonitor({
    db: ctx.db,
    log,
    pollMs: moderation.monitorPollSeconds * 1000,
    domain: xmpp.domain,
  });
  const reports = new ReportService({ db: ctx.db, store, log });
  const actions = new ModerationActions({
    db: ctx.db,
    blocks,
    audit,
    sessions: ctx.sessions,
    peers: ctx.peers,
  });

  // A session of a disabled account that started anyway (login on an instance that answered before the
  // block, or a session that was reconnecting) ends as soon as it is ready.
  ctx.sessions.onSessionReady(async (session) => {
    if (await blocks.has(session.username, 'disabled'))
      await ctx.sessions.logoff(session.streamId, 'disabled').catch(() => undefined);
  });

  return {
    name: 'moderation',
    routes: (router, access) => {
      const admin: AdminAccess = { access, adminJids: moderation.adminJids, domain: xmpp.domain };
      router.use(aclGuard({ blocks, sessions: ctx.sessions }));
      reportRoutes(router, access, { admin, reports, store, audit });
      historyRoutes(router, { admin, db: ctx.db, mucService: xmpp.mucService, actions });
      monitorRoute(router, {
        admin,
        monitor,
        hub: ctx.hub,
        log,
        heartbeatMs: s.heartbeatSeconds * 1000,
        mucService: xmpp.mucService,
      });
      actionRoutes(router, { admin, actions, blocks });
    },
    async stop() {
      monitor.stop();
    },
  };
}
