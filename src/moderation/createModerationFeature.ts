import type { Feature, GatewayContext } from '../feature.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import { AccountBlocks } from './AccountBlocks.js';
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
 * Moderation and admin monitoring (docs/moderation.md): complaints, admin history views and export,
 * the live monitor, actions on users and messages, and the audit log. Admin routes take the master
 * secret or a caller listed in PARLEY_ADMIN_JIDS. It handles no stanzas. What it enforces elsewhere
 * (mute, disable) goes through its ports (ports.ts, AccountPolicy), which the composition root hands to
 * the features that send and to the session manager. Nothing connects before a request needs the database.
 */
export type ModerationFeatureDeps = Pick<
  GatewayContext,
  'config' | 'log' | 'db' | 'hub' | 'messages' | 'peers'
> & {
  sessions: Pick<SessionManager, 'byUser' | 'logoff'>;
  /** the in-memory ACL behind the ports (AccountPolicy.invalidate), told when an action changes a block */
  blocksChanged?: (username: string) => void;
};

export function createModerationFeature(ctx: ModerationFeatureDeps): Feature {
  const log = ctx.log.child({ c: 'moderation' });
  const { xmpp, moderation, sessions: s } = ctx.config;
  const store = new ReportStore(ctx.db);
  const audit = new AuditLog(ctx.db);
  const blocks = new AccountBlocks(ctx.db);
  const monitor = new MessageMonitor({
    db: ctx.db,
    messages: ctx.messages,
    log,
    pollMs: moderation.monitorPollSeconds * 1000,
    domain: xmpp.domain,
  });
  const reports = new ReportService({ messages: ctx.messages, store, log });
  const actions = new ModerationActions({
    messages: ctx.messages,
    blocks,
    audit,
    sessions: ctx.sessions,
    peers: ctx.peers,
    blocksChanged: ctx.blocksChanged,
  });

  return {
    name: 'moderation',
    routes: (router, access) => {
      const admin: AdminAccess = { access, adminJids: moderation.adminJids, domain: xmpp.domain };
      reportRoutes(router, access, { admin, reports, store, audit });
      historyRoutes(router, { admin, messages: ctx.messages, mucService: xmpp.mucService, actions });
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
