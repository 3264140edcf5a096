import type { Context } from 'koa';
import { BridgeError } from '../errors/BridgeError.js';
import { requireOpsNetwork } from '../http/access.js';
import type { StreamTickets, Ticket } from '../sessions/StreamTickets.js';
import type { Actor } from './adminAccess.js';

// Who asked decides where a ticket opens the monitor: an admin's, like the admin's own credentials, only
// from the operations network (PARLEY_OPS_ALLOW); one asked for with the master secret from anywhere.
const MASTER = 'admin-monitor:master';
const ADMIN = 'admin-monitor:admin';

/**
 * Tickets for the admin monitor: a browser's EventSource cannot send the admin's credentials as a header,
 * and neither an admin's session token nor the master secret may travel in a URL (logs, proxies, history).
 */
export function issueMonitorTicket(tickets: StreamTickets, actor: Actor): Ticket {
  return tickets.issue(actor === 'master' ? MASTER : ADMIN);
}

/** 401 for an unknown, used or expired ticket (or one for another stream); 403 for an admin's off the ops network. */
export function redeemMonitorTicket(ctx: Context, tickets: StreamTickets, ticket: string): void {
  if (tickets.redeem(ticket, MASTER)) return;
  if (!tickets.redeem(ticket, ADMIN))
    throw new BridgeError('BAD_CREDENTIALS', 'unknown, used or expired monitor ticket; ask for a new one');
  requireOpsNetwork(ctx);
}
