import assert from 'node:assert/strict';
import type { Element } from '@xmpp/xml';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, type Reply } from '../helpers/http.js';
import { StallProxy } from '../helpers/stallProxy.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { rig } from '../rig/rig.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string };
type Problem = { code: string; status: number };

/**
 * Backpressure without timing: Parley reaches Prosody through a proxy that stops reading on demand, so
 * nothing Parley writes is acknowledged (XEP-0198) until it resumes. With bounds of 20 unacknowledged
 * stanzas per session and 30 per instance, the first sender is refused with 429 and the second with 503,
 * a refused message is not stored, and after the link resumes every accepted message arrives exactly once.
 */
describe('backpressure: sends are refused while the XMPP link is stalled', function () {
  this.timeout(60_000);
  let proxy: StallProxy;
  let gw: TestGateway;
  let bob: XmppPeer | undefined;

  before(async () => {
    proxy = new StallProxy(rig.xmpp.c2sPort);
    const port = await proxy.listen();
    gw = await startGateway({
      XMPP_SERVICE: `xmpp://127.0.0.1:${port}`,
      PARLEY_SEND_QUEUE_SESSION: '20',
      PARLEY_SEND_QUEUE_INSTANCE: '30',
    });
  });
  after(async () => {
    proxy?.resume();
    await bob?.stop();
    await gw?.stop();
    await proxy?.close();
  });

  const login = async (u: TestUser): Promise<Login> => {
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return r.body;
  };
  const send = (l: Login, to: string, body: string) =>
    call<Problem>(`${gw.url}/restapi/v1/chat/${l.streamId}/messages/${to}`, {
      method: 'POST',
      auth: bearer(l.token),
      json: { body },
    });
  /** Sends numbered messages until one is refused (at most `max`): the accepted bodies and the refusal. */
  const sendUntilRefused = async (l: Login, to: string, prefix: string, max = 60) => {
    const accepted: string[] = [];
    for (let i = 0; i < max; i++) {
      const body = `${prefix}-${i}`;
      const r = await send(l, to, body);
      if (r.status === 201) accepted.push(body);
      else return { accepted, refused: { body, reply: r } };
    }
    assert.fail(`${prefix}: ${max} sends were all accepted while the link was stalled`);
  };
  const history = async (u: TestUser, l: Login) => {
    const r = await call<{ messages: { body: string }[] }>(
      `${gw.url}/restapi/v1/chat/${u.username}/messages?limit=500`,
      { auth: bearer(l.token) },
    );
    assert.equal(r.status, 200, r.text);
    return r.body.messages.map((m) => m.body);
  };
  const assertRefusal = (reply: Reply<Problem>, status: number, code: string) => {
    assert.equal(reply.status, status, reply.text);
    assert.equal(reply.body.code, code);
    assert.match(reply.contentType, /^application\/problem\+json/);
    assert.ok(Number(reply.headers.get('retry-after')) >= 1, 'a refusal says when to come back');
  };
  /** One series of this gateway's /metrics (exact name with labels). */
  const metric = async (series: string): Promise<number> => {
    const r = await call(`${gw.url}/metrics`, { auth: bearer(gw.secret) });
    const line = r.text.split('\n').find((l) => l.startsWith(series + ' '));
    assert.ok(line, `no series ${series}`);
    return Number(line.slice(series.length + 1));
  };
  const bodiesAt = (peer: XmppPeer) =>
    peer.stanzas
      .filter((s: Element) => s.is('message') && s.getChildText('body'))
      .map((s: Element) => s.getChildText('body')!);

  it('refuses with 429 (own bound) and 503 (instance bound), stores nothing refused, delivers the rest once', async () => {
    const [a, c, b] = [await registerUser('bpa'), await registerUser('bpc'), await registerUser('bpb')];
    bob = await XmppPeer.connect(b.username, b.password);
    const [la, lc] = [await login(a), await login(c)];

    const room = `bp-${Date.now().toString(36)}`;
    const rooms = `${gw.url}/restapi/v1/chat/${la.streamId}/rooms/${room}`;
    const joined = await call(`${rooms}?nick=Alice`, { method: 'PUT', auth: bearer(la.token), json: {} });
    assert.equal(joined.status, 201, joined.text);

    const warm = await send(la, b.username, 'warm-up');
    assert.equal(warm.status, 201, warm.text);
    await bob.next((s) => s.getChildText('body') === 'warm-up');

    proxy.stall();
    // A burst of concurrent sends: the accepted ones stay within her bound, the rest are 429.
    const burst = Array.from({ length: 40 }, (_, i) => `alice-${i}`);
    const replies = await Promise.all(burst.map((body) => send(la, b.username, body)));
    const alice = {
      accepted: burst.filter((_, i) => replies[i]!.status === 201),
      refused: burst.filter((_, i) => replies[i]!.status !== 201),
    };
    for (const r of replies.filter((r) => r.status !== 201)) assertRefusal(r, 429, 'SEND_QUEUE_FULL');
    // Room posts share the session's bound: refused before anything is sent or awaited.
    assertRefusal(
      await call<Problem>(rooms, { auth: bearer(la.token), text: 'to the room' }),
      429,
      'SEND_QUEUE_FULL',
    );
    assert.ok(alice.accepted.length >= 1 && alice.accepted.length <= 20, `${alice.accepted.length} accepted`);
    // Her own bound is hers alone: Carol may still send until the instance's bound is reached.
    const carol = await sendUntilRefused(lc, b.username, 'carol');
    assertRefusal(carol.refused.reply, 503, 'XMPP_BACKLOG');
    assert.ok(carol.accepted.length >= 1 && carol.accepted.length <= 30 - alice.accepted.length);

    // 201 means stored; a refusal leaves nothing behind.
    assert.deepEqual((await history(a, la)).sort(), ['warm-up', ...alice.accepted].sort());
    assert.deepEqual(await history(c, lc), carol.accepted);
    assert.deepEqual(bodiesAt(bob), ['warm-up'], 'nothing passed the stalled link');
    assert.ok((await metric('parley_xmpp_unacked_stanzas')) >= 30);
    assert.equal(await metric('parley_send_refused_total{code="SEND_QUEUE_FULL"}'), alice.refused.length + 1);
    assert.equal(await metric('parley_send_refused_total{code="XMPP_BACKLOG"}'), 1);

    proxy.resume();
    // Once the server acknowledges what waited, sends are accepted again (Retry-After is 1 s; poll faster).
    let again: Reply<Problem> | undefined;
    for (let i = 0; i < 40; i++) {
      again = await send(la, b.username, 'after');
      if (again.status === 201) break;
      assertRefusal(again, 429, 'SEND_QUEUE_FULL');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(again?.status, 201, again?.text);
    await bob.next((s) => s.getChildText('body') === 'after');
    const expected = ['warm-up', ...alice.accepted, ...carol.accepted, 'after'];
    for (const body of expected) await bob.next((s) => s.getChildText('body') === body);
    const seen = bodiesAt(bob);
    assert.deepEqual([...seen].sort(), [...expected].sort(), 'every accepted message, exactly once');
    assert.ok(![...alice.refused, carol.refused.body].some((body) => seen.includes(body)));
    assert.deepEqual((await history(a, la)).sort(), ['warm-up', ...alice.accepted, 'after'].sort());
    // The ledger does not drift: once the server has acknowledged everything, nothing is counted.
    let unacked = -1;
    for (let i = 0; i < 40 && unacked !== 0; i++) {
      unacked = await metric('parley_xmpp_unacked_stanzas');
      if (unacked !== 0) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(unacked, 0);
  });
});
