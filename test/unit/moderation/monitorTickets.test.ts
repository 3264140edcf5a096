import assert from 'node:assert/strict';
import type { Context } from 'koa';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { AddressSet } from '../../../src/http/clientAddress.js';
import { issueMonitorTicket, redeemMonitorTicket } from '../../../src/moderation/monitorTickets.js';
import { StreamTickets, TICKET_SECONDS } from '../../../src/sessions/StreamTickets.js';

/** A request from `address`, with the operations network 10.0.0.0/8 (what clientAddress() leaves in state). */
const from = (address: string) =>
  ({ state: { clientAddress: address, opsAllow: new AddressSet(['10.0.0.0/8']) } }) as unknown as Context;
const INSIDE = from('10.1.2.3');
const OUTSIDE = from('203.0.113.9');

const refusedWith = (code: string) => (err: unknown) => err instanceof BridgeError && err.code === code;

describe('monitor tickets', () => {
  let now = Date.UTC(2026, 0, 1);
  const tickets = new StreamTickets('a master secret of some length', () => now);

  it("opens the monitor once with the master secret's ticket, from anywhere", () => {
    const { ticket, expiresIn } = issueMonitorTicket(tickets, 'master');
    assert.equal(expiresIn, TICKET_SECONDS);
    redeemMonitorTicket(OUTSIDE, tickets, ticket);
    assert.throws(() => redeemMonitorTicket(OUTSIDE, tickets, ticket), refusedWith('BAD_CREDENTIALS'));
  });

  it("opens it with an admin's ticket only from the operations network, as the admin's own credentials", () => {
    redeemMonitorTicket(INSIDE, tickets, issueMonitorTicket(tickets, 'root@localhost').ticket);
    const outside = issueMonitorTicket(tickets, 'root@localhost').ticket;
    assert.throws(() => redeemMonitorTicket(OUTSIDE, tickets, outside), refusedWith('FORBIDDEN'));
  });

  it('refuses a ticket from TICKET_SECONDS on', () => {
    const almost = issueMonitorTicket(tickets, 'master').ticket;
    const late = issueMonitorTicket(tickets, 'root@localhost').ticket;
    now += (TICKET_SECONDS - 1) * 1000;
    redeemMonitorTicket(INSIDE, tickets, almost);
    now += 1000;
    assert.throws(() => redeemMonitorTicket(INSIDE, tickets, late), refusedWith('BAD_CREDENTIALS'));
  });

  it("refuses another stream's ticket, and garbage", () => {
    for (const key of ['ps_AAAAAAAAAAAAAAAA', 'ask:rq1', 'admin-monitor']) {
      const { ticket } = tickets.issue(key);
      assert.throws(() => redeemMonitorTicket(INSIDE, tickets, ticket), refusedWith('BAD_CREDENTIALS'), key);
    }
    assert.throws(() => redeemMonitorTicket(INSIDE, tickets, 'garbage'), refusedWith('BAD_CREDENTIALS'));
  });
});
