import assert from 'node:assert/strict';
import { mock } from 'node:test';
import xml from '@xmpp/xml';
import { ACK_EVERY_STANZAS } from '../../../../src/xmpp/client/ackPolicy.js';
import { createXmppClient } from '../../../../src/xmpp/client/createXmppClient.js';
import { OutboundBudget } from '../../../../src/xmpp/client/OutboundBudget.js';
import { SessionBacklog, type BacklogClient } from '../../../../src/xmpp/client/SessionBacklog.js';

const SM = 'urn:xmpp:sm:3';

describe('SessionBacklog (one session in the backpressure ledger)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());
  const flush = () => new Promise((r) => setImmediate(r));

  let now: number;
  let budget: OutboundBudget;
  beforeEach(() => {
    now = 0;
    budget = new OutboundBudget(
      {
        maxPerSession: 100,
        maxPerInstance: 200,
        maxSessionBytes: 1 << 20,
        maxDelayMs: 250,
        maxTransitMs: 1000,
        maxStallMs: 250,
      },
      undefined,
      () => now,
    );
  });

  /** The real client composition (XEP-0198 and the ack policy), its socket write stubbed (ackPolicy.test.ts). */
  function session() {
    const x = createXmppClient({
      service: 'xmpp://127.0.0.1:1',
      domain: 'example.test',
      username: 'u',
      password: 'p',
    });
    const written: string[] = [];
    const transports = (x as unknown as { transports: unknown[] }).transports;
    Object.assign(x, { Transport: transports[0], write: async (s: string) => void written.push(s) });
    (x as unknown as BacklogClient).streamManagement!.enabled = true;
    const backlog = new SessionBacklog(x as unknown as BacklogClient, budget);
    return {
      x,
      backlog,
      requests: () => written.filter((s) => s.startsWith('<r ') && s.includes(SM)).length,
      send: async (n: number) => {
        for (let i = 0; i < n; i++) await x.send(xml('message', { to: 'b@example.test', type: 'chat' }));
        await flush();
      },
      answer: async (h: number) => {
        x.emit('element', xml('a', { xmlns: SM, h: String(h) }));
        await flush();
      },
    };
  }

  it('does not count stanzas awaiting the next batched ack request, only those asked about', async () => {
    const s = session();
    await s.send(ACK_EVERY_STANZAS - 1);
    assert.equal(s.requests(), 0);
    assert.equal(budget.total, 0, 'held back by the ack policy on purpose: no backlog');
    await s.send(1);
    assert.equal(s.requests(), 1);
    assert.equal(budget.total, ACK_EVERY_STANZAS, 'asked about, not answered yet');
    await s.send(3);
    assert.equal(budget.total, ACK_EVERY_STANZAS);
    await s.answer(ACK_EVERY_STANZAS);
    assert.equal(budget.total, 0);
  });

  it('times each request until its answer: the server behind for everyone is 503, then accepted again', async () => {
    const s = session();
    await s.send(ACK_EVERY_STANZAS);
    now += 300;
    assert.equal(s.backlog.delayMs, 300);
    assert.throws(() => s.backlog.admit(), { code: 'XMPP_BACKLOG', status: 503 });
    assert.equal(s.requests(), 1, 'a session with a request open does not ask again');
    await s.answer(ACK_EVERY_STANZAS);
    assert.equal(s.backlog.delayMs, 0);
    assert.equal(budget.delayMs(), 0);
    assert.doesNotThrow(() => s.backlog.admit()());
  });

  it('refuses only the session whose own requests wait while the server answers the others (429)', async () => {
    const [slow, other] = [session(), session()];
    await slow.send(ACK_EVERY_STANZAS);
    now += 10;
    await other.send(ACK_EVERY_STANZAS);
    await other.answer(ACK_EVERY_STANZAS);
    now += 1000;
    assert.throws(() => slow.backlog.admit(), { code: 'SEND_QUEUE_FULL', status: 429 });
    assert.doesNotThrow(() => other.backlog.admit()());
  });

  it('refuses once what it has unacknowledged, at the pace the server answers it, would wait past the bound', async () => {
    const s = session();
    await s.send(2 * ACK_EVERY_STANZAS); // two requests, the second sent before the first is answered
    now += 100;
    await s.answer(ACK_EVERY_STANZAS);
    now += 80;
    await s.answer(2 * ACK_EVERY_STANZAS); // 20 stanzas in 80 ms of a busy server: 4 ms each
    await s.send(60);
    assert.equal(budget.delayMs(), 0, 'its requests were just sent: the age alone says nothing yet');
    assert.doesNotThrow(() => s.backlog.admit()(), '60 ahead at 4 ms: 240 ms');
    await s.send(3);
    assert.throws(() => s.backlog.admit(), { code: 'SEND_QUEUE_FULL', status: 429 });
    for (const h of [3, 4, 5]) await s.answer(h * ACK_EVERY_STANZAS);
    assert.equal(s.backlog.delayMs, 0, 'nothing asked about is open: the pace alone refuses nothing');
    assert.doesNotThrow(() => s.backlog.admit()());
  });

  it("drops a closed connection's requests and count: a resumed stream acks by <resumed h/>", async () => {
    const s = session();
    await s.send(ACK_EVERY_STANZAS);
    now += 1000;
    s.x.emit('disconnect', { clean: false });
    assert.equal(budget.delayMs(), 0);
    assert.equal(s.backlog.delayMs, 0);
    assert.equal(budget.total, 0);
  });

  it('asks the server when refused for its delay while owing nothing, so one dead link cannot hold refusals', async () => {
    const [dead, idle] = [session(), session()];
    await dead.send(ACK_EVERY_STANZAS);
    now += 1000;
    assert.throws(() => idle.backlog.admit(), { code: 'XMPP_BACKLOG' });
    assert.equal(idle.requests(), 1, 'a probe');
    await idle.answer(0);
    assert.doesNotThrow(() => idle.backlog.admit()(), 'the server answered: only the dead link is behind');
    assert.throws(() => dead.backlog.admit(), { code: 'SEND_QUEUE_FULL' });
  });

  it('checks without taking a place (the refusal at the door), and asks the server as admit does', async () => {
    const [dead, idle] = [session(), session()];
    assert.doesNotThrow(() => idle.backlog.check());
    assert.equal(budget.total, 0, 'a check holds nothing');
    await dead.send(ACK_EVERY_STANZAS);
    now += 1000;
    assert.throws(() => idle.backlog.check(), { code: 'XMPP_BACKLOG', status: 503 });
    assert.equal(idle.requests(), 1, 'a probe');
    await idle.answer(0);
    assert.doesNotThrow(() => idle.backlog.check());
    assert.throws(() => dead.backlog.check(), { code: 'SEND_QUEUE_FULL', status: 429 });
  });

  it('holds a place per admitted send until released, and nothing once ended', async () => {
    const s = session();
    const release = s.backlog.admit();
    assert.equal(budget.total, 1);
    release();
    release();
    assert.equal(budget.total, 0);
    await s.send(ACK_EVERY_STANZAS);
    assert.equal(budget.total, ACK_EVERY_STANZAS);
    s.backlog.end();
    assert.equal(budget.total, 0);
    assert.equal(budget.delayMs(), 0);
  });
});
