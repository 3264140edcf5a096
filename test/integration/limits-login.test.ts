import assert from 'node:assert/strict';
import { gatewayFixture } from '../helpers/fixture.js';
import { basic, call } from '../helpers/http.js';
import { registerUser } from '../rig/users.js';

type Problem = { code: string; status: number; detail: string };
const LOGIN = (u: string) => `/restapi/v1/chat/${u}/login`;

/** Password checks cost an XMPP connection each: failures back off per user+address, address and user. */
describe('limits: password checks (real Prosody)', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({
    env: {
      PARLEY_LOGIN_MAX_FAILURES: '3',
      PARLEY_LOGIN_MAX_FAILURES_PER_IP: '6',
      PARLEY_LOGIN_MAX_FAILURES_PER_USER: '20',
      PARLEY_LOGIN_CONCURRENT_PER_IP: '2',
      // The instance-wide budget has its own test below; here each dimension is tested alone.
      PARLEY_LOGIN_FAILURE_BUDGET: '1000',
    },
  });
  const from = (ip: string) => ({ 'X-Forwarded-For': ip });
  const login = (user: string, password: string, ip: string) =>
    call<Problem>(`${fx.gw.url}${LOGIN(user)}`, { json: { password }, headers: from(ip) });

  it('answers 429 with a growing Retry-After after N failures of one user from one address', async () => {
    const u = await registerUser('thr');
    const ip = '203.0.113.10';
    for (let i = 0; i < 3; i++) assert.equal((await login(u.username, 'wrong', ip)).status, 401);
    const held = await login(u.username, u.password, ip);
    assert.equal(held.status, 429, held.text);
    assert.equal(held.body.code, 'LOGIN_THROTTLED');
    assert.equal(held.headers.get('retry-after'), '1');
    // Another address is not held back for this user's failures.
    assert.equal((await login(u.username, u.password, '203.0.113.11')).status, 201);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await login(u.username, 'wrong', ip)).status, 401);
    const longer = await login(u.username, 'wrong', ip);
    assert.equal(longer.status, 429);
    assert.equal(longer.headers.get('retry-after'), '2');
  });

  it('backs off a guessing address across users, and Basic auth too', async () => {
    const ip = '198.51.100.7';
    const users = await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => registerUser('spray')));
    for (const u of users.slice(0, 6)) assert.equal((await login(u.username, 'nope', ip)).status, 401);
    const basicCall = await call<Problem>(`${fx.gw.url}/restapi/v1/chat/${users[6]!.username}/login`, {
      method: 'POST',
      auth: basic(users[6]!.username, users[6]!.password),
      headers: from(ip),
    });
    assert.equal(basicCall.status, 429, basicCall.text);
    assert.equal(basicCall.body.code, 'LOGIN_THROTTLED');
    assert.ok(Number(basicCall.headers.get('retry-after')) >= 1);
  });

  it('caps the password checks in flight from one address', async () => {
    const ip = '192.0.2.55';
    const u = await registerUser('burst');
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login(u.username, `guess-${i}`, ip)),
    );
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.filter((s) => s === 429).length >= 5, statuses.join(','));
    assert.ok(
      statuses.every((s) => s === 401 || s === 429),
      statuses.join(','),
    );
  });

  it("never fails a user's real login because a wrong one was in flight for them", async () => {
    // The wrong login must be in flight when the right one arrives: a few spacings cover the window.
    const spacings = [1, 2, 3, 5, 8, 12];
    for (const [round, ms] of spacings.entries()) {
      const u = await registerUser('race');
      const wrong = login(u.username, 'not-the-password', `100.64.0.${round + 1}`);
      await new Promise((r) => setTimeout(r, ms));
      const right = login(u.username, u.password, `100.64.1.${round + 1}`);
      const [w, r] = await Promise.all([wrong, right]);
      assert.equal(w.status, 401);
      assert.ok(r.status === 201 || r.status === 200, `round ${round}: ${r.status} ${r.text}`);
    }
  });
});

describe("limits: the instance's failure budget (real Prosody)", function () {
  this.timeout(60_000);
  const fx = gatewayFixture({
    env: { PARLEY_LOGIN_FAILURE_BUDGET: '4', PARLEY_LOGIN_FAILURE_BUDGET_SECONDS: '30' },
  });
  const login = (user: string, password: string, ip: string) =>
    call<Problem>(`${fx.gw.url}${LOGIN(user)}`, { json: { password }, headers: { 'X-Forwarded-For': ip } });

  it('holds back addresses that failed once the budget is spent, and lets clean ones log in', async () => {
    const target = await registerUser('budget');
    const guessers = ['203.0.113.61', '203.0.113.62', '203.0.113.63', '203.0.113.64'];
    // One wrong password from each of four addresses spends the budget (no per-client limit is near).
    for (const ip of guessers) assert.equal((await login(target.username, 'guess', ip)).status, 401);
    for (const ip of guessers) {
      const held = await login(target.username, 'guess-again', ip);
      assert.equal(held.status, 429, held.text);
      assert.equal(held.body.code, 'LOGIN_THROTTLED');
      const wait = Number(held.headers.get('retry-after'));
      assert.ok(wait > 1 && wait <= 30, `Retry-After ${wait}`);
    }
    // The target's own login from a clean address, and anyone else's, go on as before.
    assert.equal((await login(target.username, target.password, '198.51.100.70')).status, 201);
    const other = await registerUser('budget');
    assert.equal((await login(other.username, other.password, '198.51.100.71')).status, 201);
  });
});
