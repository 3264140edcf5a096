import assert from 'node:assert/strict';
import { createLogger } from '../../../../src/log.js';
import { OutboundBudget } from '../../../../src/xmpp/client/OutboundBudget.js';
import { UserSession } from '../../../../src/xmpp/client/UserSession.js';

/** A session that never connects: admission is bookkeeping before any stanza reaches the socket. */
function session(budget: OutboundBudget): UserSession {
  const s = new UserSession({
    streamId: 'ps_test',
    username: 'alice',
    password: 'x',
    service: 'xmpp://127.0.0.1:1',
    domain: 'example.test',
    reconnectMaxSeconds: 1,
    log: createLogger('silent'),
    outbound: budget,
  });
  s.state = 'online';
  return s;
}

describe('UserSession.admitSend (backpressure admission)', () => {
  it('holds a place per admitted send, so concurrent sends cannot pass the same free place', () => {
    const budget = new OutboundBudget({
      maxPerSession: 2,
      maxPerInstance: 10,
      maxSessionBytes: 1 << 20,
      maxDelayMs: 250,
      maxTransitMs: 1000,
      maxStallMs: 250,
    });
    const s = session(budget);
    const first = s.admitSend();
    s.admitSend();
    assert.throws(() => s.admitSend(), { code: 'SEND_QUEUE_FULL', status: 429 });
    assert.equal(budget.total, 2);
    first();
    first(); // giving it back twice counts once
    assert.equal(budget.total, 1);
    assert.doesNotThrow(() => s.admitSend());
  });

  it("counts every session's admissions against the instance bound", () => {
    const budget = new OutboundBudget({
      maxPerSession: 5,
      maxPerInstance: 3,
      maxSessionBytes: 1 << 20,
      maxDelayMs: 250,
      maxTransitMs: 1000,
      maxStallMs: 250,
    });
    const [a, b] = [session(budget), session(budget)];
    a.admitSend();
    a.admitSend();
    b.admitSend();
    assert.throws(() => b.admitSend(), { code: 'XMPP_BACKLOG', status: 503 });
  });

  it('answers 503 XMPP_UNAVAILABLE while the session is not online, without taking a place', () => {
    const budget = new OutboundBudget({
      maxPerSession: 5,
      maxPerInstance: 5,
      maxSessionBytes: 1 << 20,
      maxDelayMs: 250,
      maxTransitMs: 1000,
      maxStallMs: 250,
    });
    const s = session(budget);
    s.state = 'reconnecting';
    assert.throws(() => s.admitSend(), { code: 'XMPP_UNAVAILABLE' });
    assert.equal(budget.total, 0);
  });
});
