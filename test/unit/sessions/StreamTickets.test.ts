import assert from 'node:assert/strict';
import { StreamTickets, TICKET_SECONDS } from '../../../src/sessions/StreamTickets.js';

describe('StreamTickets', () => {
  let now = 1_700_000_000_000;
  const tickets = new StreamTickets('a master secret of some length', () => now);

  it('opens its own stream once', () => {
    const { ticket, expiresIn } = tickets.issue('s1');
    assert.equal(expiresIn, TICKET_SECONDS);
    assert.equal(tickets.redeem(ticket, 's2'), false, 'another stream');
    assert.equal(tickets.redeem(ticket, 's1'), true);
    assert.equal(tickets.redeem(ticket, 's1'), false, 'used');
  });

  it('expires after TICKET_SECONDS', () => {
    const { ticket } = tickets.issue('s1');
    now += TICKET_SECONDS * 1000;
    assert.equal(tickets.redeem(ticket, 's1'), false);
  });

  it('refuses a ticket another secret signed, or any altered part', () => {
    const { ticket } = new StreamTickets('another secret entirely!', () => now).issue('s1');
    assert.equal(tickets.redeem(ticket, 's1'), false);
    const good = tickets.issue('s1').ticket;
    const [exp, nonce, mac] = good.split('.') as [string, string, string];
    assert.equal(tickets.redeem(`${Number(exp) + 600}.${nonce}.${mac}`, 's1'), false, 'a later expiry');
    const otherNonce = (nonce[0] === 'A' ? 'B' : 'A') + nonce.slice(1);
    assert.equal(tickets.redeem(`${exp}.${otherNonce}.${mac}`, 's1'), false, 'another nonce');
    assert.equal(tickets.redeem('', 's1'), false);
    // The last character's spare bits: every other spelling of the same MAC is refused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.at(-1)!);
    for (let spare = 1; spare < 4; spare++) {
      const respelled = `${mac.slice(0, -1)}${alphabet[(last & ~3) | ((last + spare) & 3)]}`;
      assert.equal(tickets.redeem(`${exp}.${nonce}.${respelled}`, 's1'), false, `respelled ${respelled}`);
    }
    assert.equal(tickets.redeem(good, 's1'), true);
  });
});
