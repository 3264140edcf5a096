import assert from 'node:assert/strict';
import { OutboundBudget, type SessionLoad } from '../../../../src/xmpp/client/OutboundBudget.js';

const idle: SessionLoad = { pending: 0, bytes: 0, delayMs: 0 };

describe('OutboundBudget (backpressure decisions)', () => {
  let now: number;
  let seen: string[];
  // maxStallMs at the delay bound: every pause of the server is refused (the stall rule has its own tests)
  const budget = (maxStallMs = 250) =>
    new OutboundBudget(
      {
        maxPerSession: 3,
        maxPerInstance: 5,
        maxSessionBytes: 100,
        maxDelayMs: 250,
        maxTransitMs: 1000,
        maxStallMs,
      },
      (code) => seen.push(code),
      () => now,
    );
  beforeEach(() => {
    now = 0;
    seen = [];
  });

  it('lets a send through below every bound', () => {
    const b = budget();
    b.adjust(4);
    assert.doesNotThrow(() => b.check({ pending: 2, bytes: 99, delayMs: 250 }));
    assert.deepEqual(seen, []);
  });

  it('answers 429 SEND_QUEUE_FULL with Retry-After for one session over its own bound (stanzas or bytes)', () => {
    const b = budget();
    assert.throws(() => b.check({ ...idle, pending: 3 }), {
      code: 'SEND_QUEUE_FULL',
      status: 429,
      extra: { retryAfter: 1 },
    });
    assert.throws(() => b.check({ ...idle, bytes: 100 }), { code: 'SEND_QUEUE_FULL' });
    assert.deepEqual(seen, ['SEND_QUEUE_FULL', 'SEND_QUEUE_FULL']);
  });

  it('answers 503 XMPP_BACKLOG with Retry-After when the instance total reaches its bound', () => {
    const b = budget();
    b.adjust(5);
    assert.throws(() => b.check(idle), { code: 'XMPP_BACKLOG', status: 503, extra: { retryAfter: 1 } });
    b.adjust(-1);
    assert.doesNotThrow(() => b.check(idle));
    assert.deepEqual(seen, ['XMPP_BACKLOG']);
  });

  it('answers 503 XMPP_BACKLOG while the server leaves a request unanswered past the delay bound', () => {
    const b = budget();
    const r = b.delay.request();
    now += 250;
    assert.doesNotThrow(() => b.check(idle), 'at the bound, still accepted');
    now += 1;
    assert.throws(() => b.check(idle), { code: 'XMPP_BACKLOG', status: 503, extra: { retryAfter: 1 } });
    assert.equal(b.delayMs(), 251);
    b.delay.answered(r);
    assert.doesNotThrow(() => b.check(idle), 'accepted again as soon as the server answers');
  });

  it('answers 503 XMPP_BACKLOG while messages between its users take longer than the transit bound to arrive', () => {
    const b = budget();
    b.transit.sent('m1');
    b.transit.sent('m2');
    now += 1000;
    b.transit.arrived('m1');
    assert.doesNotThrow(() => b.check(idle), 'at the bound, still accepted');
    b.transit.sent('m3');
    now += 800;
    b.transit.arrived('m3'); // 1000 moved a quarter of the way to 800
    assert.doesNotThrow(() => b.check(idle));
    b.transit.sent('m4');
    b.transit.sent('m5');
    now += 1400;
    b.transit.arrived('m4'); // the first for over a second: the estimate; m5 is still on its way
    assert.throws(() => b.check(idle), {
      code: 'XMPP_BACKLOG',
      status: 503,
      message: /messages between users of this gateway take 1400 ms to arrive/,
    });
    now += 10;
    b.transit.arrived('m5');
    assert.doesNotThrow(() => b.check(idle), 'accepted again once nothing is in flight');
  });

  it('never stays refusing once nothing is owed, however long the quiet', () => {
    const b = budget();
    const r = b.delay.request();
    now += 60_000;
    assert.throws(() => b.check(idle), { code: 'XMPP_BACKLOG' });
    b.delay.dropped(r); // its connection ended
    assert.doesNotThrow(() => b.check(idle));
    now += 600_000;
    assert.doesNotThrow(() => b.check(idle));
  });

  it("refuses only the slow session (429) while the server answers others' later requests", () => {
    const b = budget();
    const slow = b.delay.request();
    now += 10;
    b.delay.answered(b.delay.request());
    now += 1000;
    assert.doesNotThrow(() => b.check(idle), 'other sessions send on');
    assert.throws(() => b.check({ ...idle, delayMs: b.delay.age(slow) }), {
      code: 'SEND_QUEUE_FULL',
      status: 429,
    });
  });

  it('prefers 503 when the instance is behind as well as the session', () => {
    const b = budget();
    const r = b.delay.request();
    now += 1000;
    assert.throws(() => b.check({ ...idle, delayMs: b.delay.age(r) }), { code: 'XMPP_BACKLOG' });
  });

  it('never lets the total go negative (a session reporting its last share twice)', () => {
    const b = budget();
    b.adjust(2);
    b.adjust(-3);
    assert.equal(b.total, 0);
  });

  describe('a server that answers nothing for a while (maxStallMs 1000)', () => {
    const stalling = () => budget(1000);

    it('is waited for up to the stall bound while it answers nothing at all, then refused with 503', () => {
      const b = stalling();
      b.delay.answered(b.delay.request());
      now += 5;
      const r = b.delay.request();
      now += 600;
      assert.ok(b.delay.stalled());
      assert.doesNotThrow(() => b.check({ ...idle, delayMs: b.delay.age(r) }), 'a pause, not a backlog');
      now += 401;
      assert.throws(() => b.check(idle), { code: 'XMPP_BACKLOG', status: 503 });
      b.delay.answered(r);
      assert.doesNotThrow(() => b.check(idle));
    });

    it('still refuses a server that keeps answering, late (a backlog), at the delay bound', () => {
      const b = stalling();
      const late = [b.delay.request()];
      for (let t = 0; t < 30; t++) {
        now += 10;
        late.push(b.delay.request());
      }
      now += 200;
      for (const r of late.splice(0, 10)) b.delay.answered(r); // answers flow, each ~250 ms after its request
      now += 50;
      assert.ok(!b.delay.stalled());
      assert.throws(() => b.check(idle), { code: 'XMPP_BACKLOG', status: 503 });
    });

    it('refuses a session during a pause only for what its own stanzas make at the server’s pace', () => {
      const b = stalling();
      const r = b.delay.request();
      now += 600;
      const age = b.delay.age(r);
      assert.doesNotThrow(() => b.check({ ...idle, delayMs: age, aheadMs: 40 }));
      assert.throws(() => b.check({ ...idle, delayMs: age, aheadMs: 300 }), {
        code: 'SEND_QUEUE_FULL',
        message: /this session's messages wait 300 ms/,
      });
    });
  });
});
