import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gatewayFixture } from '../helpers/fixture.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser } from '../rig/users.js';

type Problem = { code: string; status: number; detail: string };
type Asked = { id: string; token: string; events: string };
type Login = { streamId: string; token: string; events: string };

/** POST /ask needs no account: what one address and one workgroup may ask is counted, the queue capped. */
describe('limits: visitor requests (POST /ask)', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({
    perTest: true,
    env: {
      PARLEY_ASK_PER_IP_PER_MINUTE: '3',
      PARLEY_ASK_PER_WORKGROUP_PER_MINUTE: '6',
      PARLEY_ASK_QUEUE_MAX: '4',
    },
  });
  let ipSeq = 0;
  const nextIp = () => `198.18.${Math.floor(++ipSeq / 250)}.${(ipSeq % 250) + 1}`;

  async function workgroup(members: string[] = []): Promise<string> {
    const name = `wg-${randomBytes(3).toString('hex')}`;
    const r = await call(`${fx.gw.url}/restapi/v1/ask/admin`, {
      auth: fx.gw.secret,
      json: { name, description: 'Limits desk', members: members.join(', ') },
    });
    assert.equal(r.status, 201, r.text);
    return name;
  }
  const ask = (wg: string, ip = nextIp()) => {
    const userID = `v${randomBytes(3).toString('hex')}`;
    return call<Asked & Problem>(`${fx.gw.url}/restapi/v1/ask`, {
      json: { workgroup: wg, userID, emailAddress: `${userID}@example.org`, question: 'Help?' },
      headers: { 'X-Forwarded-For': ip },
    });
  };

  it('answers 429 RATE_LIMITED with Retry-After past the per-address rate', async () => {
    const wg = await workgroup();
    const ip = nextIp();
    for (let i = 0; i < 3; i++) assert.equal((await ask(wg, ip)).status, 202);
    const refused = await ask(wg, ip);
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.body.code, 'RATE_LIMITED');
    const wait = Number(refused.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, String(wait));
    assert.equal((await ask(wg, nextIp())).status, 202); // another address is not held back
  });

  it('answers 429 past the per-workgroup rate, whatever the addresses', async () => {
    const wg = await workgroup();
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push((await ask(wg)).status);
    // the queue cap (4) answers first for the fifth and sixth; the seventh is over the workgroup's rate
    assert.deepEqual(answers, [202, 202, 202, 202, 429, 429, 429]);
    const last = await ask(wg);
    assert.equal(last.body.code, 'RATE_LIMITED');
    assert.match(last.body.detail, new RegExp(wg));
  });

  it('refuses a request beyond the queue cap with 429 QUEUE_FULL, and takes one again once a place frees', async () => {
    const wg = await workgroup();
    const waiting: Asked[] = [];
    for (let i = 0; i < 4; i++) waiting.push((await ask(wg)).body);
    const full = await ask(wg);
    assert.equal(full.status, 429, full.text);
    assert.equal(full.body.code, 'QUEUE_FULL');
    assert.ok(Number(full.headers.get('retry-after')) >= 1);
    const first = waiting[0]!;
    const userId = new URL(first.events).pathname.split('/').at(-2)!;
    const gone = await call(`${fx.gw.url}/restapi/v1/ask/${userId}`, {
      method: 'DELETE',
      auth: bearer(first.token),
    });
    assert.equal(gone.status, 204);
    assert.equal((await ask(wg)).status, 202);
  });

  it('coalesces queue notices: a burst of joins does not notify agents once per join', async () => {
    const u = await registerUser('agent');
    const wg = await workgroup([u.jid]);
    const l = (
      await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
        json: { password: u.password },
      })
    ).body;
    const events = new SseClient(withToken(l.events, l.token));
    fx.streams.push(events);
    await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    const duty = await call(`${fx.gw.url}/restapi/v1/chat/${l.streamId}/assists/${wg}`, {
      method: 'POST',
      auth: bearer(l.token),
      json: { maxChats: 1 },
    });
    assert.equal(duty.status, 200, duty.text);
    const notices = () =>
      events.events.filter((e) => e.name === 'chatapi.ask' && e.data.type === 'notify-queue');
    await events.next((e) => e.name === 'chatapi.ask' && e.data.type === 'notify-queue');
    const before = notices().length;
    const burst = await Promise.all([1, 2, 3, 4].map(() => ask(wg)));
    assert.deepEqual(
      burst.map((b) => b.status),
      [202, 202, 202, 202],
    );
    await events.next(
      (e) => e.name === 'chatapi.ask' && e.data.type === 'notify-queue' && e.data.userCount === 4,
    );
    await new Promise((r) => setTimeout(r, 300));
    const sent = notices().length - before;
    assert.ok(sent < 4, `${sent} notify-queue presences for 4 joins`);
  });
});
