import assert from 'node:assert/strict';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { memoryLimiters } from '../../../src/limits/limiter.js';
import { LoginThrottle } from '../../../src/sessions/LoginThrottle.js';

const wrong = async (): Promise<never> => {
  throw new BridgeError('BAD_CREDENTIALS', 'wrong');
};
const right = async (): Promise<string> => 'ok';
const code = (expected: string, retryAfter?: number) => (e: unknown) => {
  assert.ok(e instanceof BridgeError);
  assert.equal(e.code, expected);
  if (retryAfter !== undefined) assert.equal(e.extra.retryAfter, retryAfter);
  return true;
};

describe('LoginThrottle', () => {
  const make = (over: Partial<ConstructorParameters<typeof LoginThrottle>[0]> = {}) =>
    new LoginThrottle(
      {
        maxFailures: 3,
        maxFailuresPerIp: 100,
        maxFailuresPerUser: 100,
        backoffMaxSeconds: 4,
        concurrentPerIp: 100,
        failureBudget: 1000,
        failureBudgetSeconds: 10,
        ...over,
      },
      memoryLimiters,
    );

  it('refuses checks of a user from an address after N failures, with a wait that doubles up to the maximum', async () => {
    const t = make();
    for (let i = 0; i < 3; i++) await assert.rejects(t.run('u', '10.0.0.1', wrong), code('BAD_CREDENTIALS'));
    await assert.rejects(t.run('u', '10.0.0.1', right), code('LOGIN_THROTTLED', 1));
    assert.equal(await t.run('u', '10.0.0.2', right), 'ok'); // another address
    assert.equal(await t.run('v', '10.0.0.1', right), 'ok'); // another user
  });

  it('grows the wait with each failure after the block and caps it', async function () {
    this.timeout(10_000);
    const t = make({ maxFailures: 1, backoffMaxSeconds: 2 });
    await assert.rejects(t.run('u', 'a', wrong), code('BAD_CREDENTIALS'));
    await assert.rejects(t.run('u', 'a', right), code('LOGIN_THROTTLED', 1));
    await new Promise((r) => setTimeout(r, 1050));
    await assert.rejects(t.run('u', 'a', wrong), code('BAD_CREDENTIALS'));
    await assert.rejects(t.run('u', 'a', right), code('LOGIN_THROTTLED', 2));
    await new Promise((r) => setTimeout(r, 2050));
    await assert.rejects(t.run('u', 'a', wrong), code('BAD_CREDENTIALS'));
    await assert.rejects(t.run('u', 'a', right), code('LOGIN_THROTTLED', 2)); // capped at the maximum
  });

  it("clears the user's counters on success but never the address's", async () => {
    const t = make({ maxFailures: 2, maxFailuresPerIp: 3 });
    await assert.rejects(t.run('u', 'a', wrong));
    assert.equal(await t.run('u', 'a', right), 'ok');
    await assert.rejects(t.run('u', 'a', wrong));
    assert.equal(await t.run('u', 'a', right), 'ok'); // one failure since the success: not blocked
    await assert.rejects(t.run('v', 'a', wrong)); // the third failure from the address
    await assert.rejects(t.run('w', 'a', right), code('LOGIN_THROTTLED'));
  });

  it('lets a burst of right passwords of many users through from one address with no failure', async () => {
    const t = make({ maxFailuresPerIp: 5 });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const runs = Array.from({ length: 20 }, (_, i) => t.run(`user${i}`, 'nat', () => gate.then(() => 'ok')));
    await new Promise((r) => setImmediate(r));
    open();
    assert.deepEqual(await Promise.all(runs), Array(20).fill('ok'));
  });

  it('caps the checks in flight from one address', async () => {
    const t = make({ concurrentPerIp: 2 });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const slow = () => gate.then(() => 'ok');
    const a = t.run('u', 'a', slow);
    const b = t.run('v', 'a', slow);
    await new Promise((r) => setImmediate(r));
    await assert.rejects(t.run('w', 'a', right), code('RATE_LIMITED', 1));
    open();
    assert.deepEqual(await Promise.all([a, b]), ['ok', 'ok']);
    assert.equal(await t.run('w', 'a', right), 'ok');
  });

  it('does not count errors that are not a wrong password (the XMPP server was away)', async () => {
    const t = make({ maxFailures: 1 });
    const down = async () => {
      throw new BridgeError('XMPP_UNAVAILABLE', 'away');
    };
    await assert.rejects(t.run('u', 'a', down), code('XMPP_UNAVAILABLE'));
    await assert.rejects(t.run('u', 'a', down), code('XMPP_UNAVAILABLE'));
    assert.equal(await t.run('u', 'a', right), 'ok');
  });

  it('refuses addresses that already failed once the instance budget is spent, never clean ones', async () => {
    const t = make({ failureBudget: 3, maxFailures: 100, maxFailuresPerIp: 100 });
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
      await assert.rejects(t.run(`guess-${ip}`, ip, wrong), code('BAD_CREDENTIALS'));
    // The budget is spent: every address that failed waits for the rest of the window…
    await assert.rejects(t.run('other', '10.0.0.1', right), code('LOGIN_THROTTLED', 10));
    await assert.rejects(t.run('guess-10.0.0.2', '10.0.0.2', wrong), code('LOGIN_THROTTLED'));
    // …while an address with a clean record logs in, even as a user someone else guessed at.
    assert.equal(await t.run('guess-10.0.0.1', '10.0.0.9', right), 'ok');
    assert.equal(await t.run('fresh', '10.0.0.8', right), 'ok');
  });

  it('counts checks in flight from failed addresses against the budget, so a burst cannot overshoot', async () => {
    const t = make({ failureBudget: 3, maxFailures: 100, maxFailuresPerIp: 100 });
    await assert.rejects(t.run('x', 'a', wrong), code('BAD_CREDENTIALS')); // one of three spent
    let fail!: () => void;
    const gate = new Promise<never>(
      (_, reject) => (fail = () => reject(new BridgeError('BAD_CREDENTIALS', 'no'))),
    );
    const burst = Array.from({ length: 5 }, (_, i) => t.run(`y${i}`, 'a', () => gate));
    const settled = Promise.allSettled(burst);
    await new Promise((r) => setImmediate(r));
    fail();
    const codes = (await settled).map((r) =>
      r.status === 'rejected' ? (r.reason as BridgeError).code : 'ok',
    );
    assert.deepEqual(codes.filter((c) => c === 'BAD_CREDENTIALS').length, 2, codes.join());
    assert.deepEqual(codes.filter((c) => c === 'LOGIN_THROTTLED').length, 3, codes.join());
  });

  it('judges a check without an address by its user', async () => {
    const t = make({ failureBudget: 1, maxFailuresPerUser: 100 });
    await assert.rejects(t.run('u', undefined, wrong), code('BAD_CREDENTIALS'));
    await assert.rejects(t.run('u', undefined, right), code('LOGIN_THROTTLED'));
    assert.equal(await t.run('v', undefined, right), 'ok');
  });
});
