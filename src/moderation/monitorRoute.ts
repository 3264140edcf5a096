import type Router from '@koa/router';
import { createSession } from 'better-sse';
import { z } from 'zod';
import type { Log } from '../log.js';
import type { EventHub } from '../sse/EventHub.js';
import { validate } from '../http/body.js';
import { requireAdmin, type AdminAccess } from './adminAccess.js';
import type { MessageMonitor } from './MessageMonitor.js';
import { bool, userJid } from './params.js';
import { issueMonitorTicket, redeemMonitorTicket } from './monitorTickets.js';
import { parseJid } from '../xmpp/jid.js';

const MonitorParams = z
  .object({
    user: z.string().min(1).max(3071).optional(),
    room: z.string().min(1).max(3071).optional(),
    hasAttachments: z.enum(['true', 'false']).optional(),
    ticket: z.string().optional(), // read before the filters: see monitorTickets.ts
  })
  .strict();

/**
 * GET /restapi/v1/admin/monitor: every message passing through Parley as `chatapi.monitor` events,
 * and new complaints as `chatapi.report`, live only (no ids, no replay: the history views cover the
 * past). Filters: user (sent or received), room, hasAttachments. Browsers open it with `?ticket=` from
 * POST /restapi/v1/admin/monitor/ticket.
 */
export function monitorRoute(
  router: Router,
  deps: {
    admin: AdminAccess;
    monitor: MessageMonitor;
    hub: EventHub;
    log: Log;
    heartbeatMs: number;
    mucService: string;
  },
): void {
  const { tickets } = deps.admin.access;

  router.post('/restapi/v1/admin/monitor/ticket', async (ctx) => {
    const actor = await requireAdmin(ctx, deps.admin);
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = issueMonitorTicket(tickets, actor);
  });

  router.get('/restapi/v1/admin/monitor', async (ctx) => {
    const ticket = ctx.query.ticket;
    if (typeof ticket === 'string' && ticket) redeemMonitorTicket(ctx, tickets, ticket);
    else await requireAdmin(ctx, deps.admin);
    const q = validate(MonitorParams, ctx.query, 'query');
    const { domain } = deps.admin;
    const filter = {
      user: q.user ? userJid(q.user, domain) : undefined,
      room: q.room
        ? parseJid(q.room.includes('@') ? q.room : `${q.room}@${deps.mucService}`, domain, 'room JID').bare
        : undefined,
      hasAttachments: bool(q.hasAttachments),
    };
    // Subscribe first: once the stream is open (the client sees `open`), the poller's cursors are set
    // and every message stored from then on will be shown. A database failure is still a 503 here.
    const pending: Parameters<Parameters<MessageMonitor['subscribe']>[1]>[0][] = [];
    let push = (item: (typeof pending)[number]): void => {
      pending.push(item);
    };
    const unsubscribe = await deps.monitor.subscribe(filter, (item) => push(item));
    ctx.respond = false;
    ctx.req.socket.setTimeout(0);
    const session = await createSession(ctx.req, ctx.res, {
      statusCode: 200,
      keepAlive: deps.heartbeatMs,
      retry: 2000,
      headers: { 'X-Accel-Buffering': 'no', 'Cache-Control': 'no-cache, no-transform' },
    }).catch((err: unknown) => {
      unsubscribe();
      throw err;
    });
    push = (item) => {
      if (session.isConnected) session.push(item.payload, item.event);
    };
    for (const item of pending.splice(0)) push(item);
    // Shutdown closes it like the user streams, so the admin's browser reconnects elsewhere.
    const untrack = deps.hub.trackStream(() => {
      if (session.isConnected) ctx.res.end();
    });
    session.once('disconnected', () => {
      unsubscribe();
      untrack();
    });
    // Tells the client the poller is primed: anything stored from now on will be shown.
    void session.batch((b) => {
      b.comment('monitor ready').dispatch();
    });
    deps.log.info({ filter }, 'admin monitor opened');
  });
}
