import assert from 'node:assert/strict';
import { SendConcurrency } from '../../../src/limits/SendConcurrency.js';
import { isBridgeError } from '../../../src/errors/BridgeError.js';

describe('SendConcurrency (the adaptive bound on sends in progress)', () => {
  let now: number;
  let refused: string[];
  let probes: number;
  const make = (o: { min?: number; max?: number } = {}) =>
    new SendConcurrency({
      targetMs: 50,
      intervalMs: 100,
      min: 8,
      now: () => now,
      onRefused: (code) => refused.push(code),
      ...o,
    });
  /** `n` sends of `session` that start now */
  const hold = (c: SendConcurrency, n: number, session: unknown) =>
    Array.from({ length: n }, () => c.acquire(session));
  /** a send of a session of its own that stays in progress: what it sees is judged */
  const probe = (c: SendConcurrency) => c.acquire(`probe-${probes++}`);
  /** `n` intervals of 150 ms in which nothing finishes, each judged by a probe that stays in progress */
  const stuckFor = (c: SendConcurrency, n: number) => {
    for (let i = 0; i < n; i++) {
      now += 150;
      probe(c);
    }
  };
  /** `n` sends of different sessions that start now and finish after `ms` */
  const quick = (c: SendConcurrency, n: number, ms = 0) => {
    const releases = Array.from({ length: n }, (_, i) => c.acquire(`quick-${i}`));
    now += ms;
    for (const r of releases) r();
  };
  /** a bound brought down (to 9) by 16 stuck sends, which then finish (and one interval passes) */
  const shrunk = () => {
    const c = make();
    const stuck = hold(c, 16, 'a');
    for (let i = 0; i < 3; i++) {
      now += 150;
      stuck.push(probe(c));
    }
    assert.equal(c.limit, 9); // 18 × max(0.5, 50 / 150)
    for (const r of stuck) r();
    now += 100;
    probe(c)(); // the interval in which the stuck ones finished: not quick
    return c;
  };
  const refusal = (code: string) => (e: unknown) =>
    isBridgeError(e) &&
    e.code === code &&
    e.status === (code === 'GATEWAY_BUSY' ? 503 : 429) &&
    e.extra.retryAfter === 1;

  beforeEach(() => {
    now = 1000;
    refused = [];
    probes = 0;
  });

  it('bounds nothing while sends finish under the target', () => {
    const c = make();
    for (let i = 0; i < 50; i++) {
      quick(c, 40, 10);
      now += 20;
    }
    assert.equal(c.limit, 1024);
    assert.equal(c.inFlight, 0);
    assert.deepEqual(refused, []);
  });

  it('takes fewer at once when even the shortest send is over the target three intervals in a row', () => {
    const c = make();
    hold(c, 64, 'flood');
    for (let i = 0; i < 2; i++) {
      now += 150;
      probe(c); // one or two intervals over the target: a pause, not yet a queue
      assert.equal(c.limit, 1024);
    }
    now += 150;
    probe(c); // three: from the 66 really in progress, by half at most (50 / 150 < 0.5)
    assert.equal(c.limit, 33);
  });

  it('refuses past the bound the sessions with sends in progress, first, with 429 SEND_QUEUE_FULL', () => {
    const c = make();
    hold(c, 64, 'flood');
    stuckFor(c, 3);
    assert.throws(() => c.acquire('flood'), refusal('SEND_QUEUE_FULL'));
    // a user with one send out is still taken, and one with none; a second one out is past its share
    const user = c.acquire('user');
    c.acquire('user');
    assert.throws(() => c.acquire('user'), refusal('SEND_QUEUE_FULL'));
    user();
    c.acquire('user');
    assert.deepEqual(refused, ['SEND_QUEUE_FULL', 'SEND_QUEUE_FULL']);
    assert.equal(c.inFlight, 64 + 3 + 2);
  });

  it('refuses anyone with 503 GATEWAY_BUSY once `max` sends are in progress', () => {
    const c = make({ max: 4 });
    const releases = [0, 1, 2, 3].map((i) => c.acquire(`s${i}`));
    assert.throws(() => c.acquire('s9'), refusal('GATEWAY_BUSY'));
    releases[0]!();
    releases[0]!(); // a second release gives nothing back twice
    assert.equal(c.inFlight, 3);
    c.acquire('s9');
    assert.throws(() => c.acquire('s10'), refusal('GATEWAY_BUSY'));
  });

  it('does not shrink for one interval over the target, nor for a burst with one short send', () => {
    const c = make();
    const slow = hold(c, 20, 'a');
    now += 150;
    probe(c)(); // over: the first interval
    for (const r of slow) r();
    quick(c, 1); // 0 ms: this interval's shortest
    now += 150;
    probe(c)();
    assert.equal(c.limit, 1024);
  });

  it('counts the intervals that passed with sends stuck and nothing starting or ending', () => {
    const c = make();
    hold(c, 30, 'a');
    now += 350; // three intervals and a half, judged at once by the next send
    probe(c);
    assert.equal(c.limit, 15); // 31 × max(0.5, 50 / 350)
  });

  it('counts them even after a quick send early in the same interval', () => {
    const c = make();
    quick(c, 1); // 0 ms: the window's shortest
    hold(c, 30, 'a');
    now += 450;
    probe(c);
    assert.equal(c.limit, 15);
  });

  it('shrinks to its floor at most, while nothing finishes', () => {
    const c = make();
    hold(c, 30, 'a');
    stuckFor(c, 5);
    assert.equal(c.limit, 8);
  });

  it('grows back by an eighth an interval while the bound is reached and sends are quick', () => {
    const c = shrunk();
    const limits: number[] = [];
    for (let i = 0; i < 4; i++) {
      quick(c, c.limit, 5);
      now += 100;
      probe(c)();
      limits.push(c.limit);
    }
    // by max(1, an eighth) each interval: up, never by leaps
    for (const [i, l] of limits.entries()) {
      const before = i ? limits[i - 1]! : 9;
      assert.ok(l > before - 1 && l <= Math.ceil(before * 1.125) + 1, `${limits}`);
    }
    assert.ok(limits[3]! > limits[0]!, `${limits}`);
  });

  it('does not grow while the bound is not reached', () => {
    const c = shrunk();
    const limit = c.limit;
    for (let i = 0; i < 5; i++) {
      quick(c, 2, 5);
      now += 100;
    }
    probe(c)();
    assert.equal(c.limit, limit);
  });
});
