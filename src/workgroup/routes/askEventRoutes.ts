import type Router from '@koa/router';
import type { Context } from 'koa';
import { BridgeError } from '../../errors/BridgeError.js';
import { parseEventId } from '../../http/params.js';
import type { Log } from '../../log.js';
import type { StreamTickets } from '../../sessions/StreamTickets.js';
import type { EventHub } from '../../sse/EventHub.js';
import { openStream } from '../../sse/openStream.js';
import { EVENT_NAMES } from '../../sse/events.js';
import type { AskService } from '../AskService.js';
import type { RequestRow } from '../RequestStore.js';
import { visitorKey } from '../events.js';
import { parseVisitorId, visitorRequest } from './visitorAccess.js';

export interface AskEventRoutesDeps {
  ask: AskService;
  hub: EventHub;
  log: Log;
  heartbeatMs: number;
  /** the chat streams' instance: one key for the whole cluster */
  tickets: StreamTickets;
}

const BASE = '/restapi/v1/ask';

/** Bound to the request, not the visitor name: a name used again later gets a new request and new tickets. */
const ticketFor = (r: RequestRow): string => `ask:${r.id}`;

/**
 *   POST /ask/{userId}/events/ticket  a ticket for the stream: 60 s, once, this request's stream only
 *   GET  /ask/{userId}/events         the visitor's event stream (`?ticket=`, or `?token=` for pages
 *                                     written before tickets, for EventSource)
 */
export function askEventRoutes(router: Router, deps: AskEventRoutesDeps): void {
  const { ask } = deps;

  router.post(`${BASE}/:userId/events/ticket`, async (ctx) => {
    const r = await visitorRequest(ctx, ask, ctx.params.userId!);
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = deps.tickets.issue(ticketFor(r));
  });

  router.get(`${BASE}/:userId/events`, async (ctx) => {
    const ticket = ctx.query.ticket;
    const r =
      typeof ticket === 'string' && ticket
        ? await requestOfTicket(ctx.params.userId!, ticket)
        : await visitorRequest(ctx, ask, ctx.params.userId!, true);
    await stream(ctx, r);
  });

  /**
   * A ticket stands in for the visitor token: it was issued moments ago to a caller allowed on this stream.
   * It names the visitor's newest request (one open request per name), so a ticket for an older one is spent.
   */
  async function requestOfTicket(rawUserId: string, ticket: string): Promise<RequestRow> {
    const r = await ask.latestOf(parseVisitorId(rawUserId));
    if (!r || !deps.tickets.redeem(ticket, ticketFor(r)))
      throw new BridgeError('BAD_CREDENTIALS', 'unknown, used or expired stream ticket; ask for a new one');
    return r;
  }

  async function stream(ctx: Context, r: RequestRow): Promise<void> {
    const q = ctx.query.lastEventId;
    const lastEventId = parseEventId(ctx.get('Last-Event-ID') || (typeof q === 'string' ? q : undefined));
    const { id: requestId, ...snapshot } = await ask.view(r);
    await openStream(ctx, deps.hub, deps.log, {
      username: visitorKey(r.id),
      lastEventId,
      heartbeatMs: deps.heartbeatMs,
      snapshot: () => [
        { name: EVENT_NAMES.ask, payload: { type: 'status', snapshot: true, requestId, ...snapshot } },
      ],
    });
  }
}
