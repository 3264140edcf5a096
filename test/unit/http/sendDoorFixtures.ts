import type { OutboundBudget } from '../../../src/xmpp/client/OutboundBudget.js';
import { SEND_ROUTE } from '../../../src/chat/routes.js';
import { ROOM_SEND_ROUTES } from '../../../src/rooms/roomRoutes.js';

/** The features' own send routes, as the composition root hands them to the door. */
export const SENDS = [SEND_ROUTE, ...ROOM_SEND_ROUTES];

/** Small bounds for the door's tests (OutboundBudget's limits). */
export const LIMITS = {
  maxPerSession: 5,
  maxPerInstance: 10,
  maxSessionBytes: 1000,
  maxDelayMs: 250,
  maxTransitMs: 1000,
  maxStallMs: 250,
};

/** A session as the door sees it: its load checked against a real budget (SessionBacklog.check). */
export class FakeSession {
  pending = 0;
  constructor(private readonly budget: OutboundBudget) {}
  refuseIfBehind(): void {
    this.budget.check({ pending: this.pending, bytes: 0, delayMs: 0 });
  }
}
