import assert from 'node:assert/strict';
import type { Element } from '@xmpp/xml';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, type Reply } from '../helpers/http.js';
import { StallProxy } from '../helpers/stallProxy.js';
import { ACK_EVERY_STANZAS } from '../../src/xmpp/client/ackPolicy.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { rig } from '../rig/rig.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string };
type Problem = { code: string; status: number };

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The HTTP calls of one gateway that these tests make. */
function api(gw: () => TestGateway) {
  const login = async (u: TestUser): Promise<Login> => {
    const r = await call<Login>(`${gw().url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return r.body;
  };
  const send = (l: Login, to: string, body: string) =>
    call<Problem>(`${gw().url}/restapi/v1/chat/${l.streamId}/messages/${to}`, {
      method: 'POST',
      auth: bearer(l.token),
      json: { body },
    });
  /**
   * Sends numbered messages until one is refused (at most `max`, `gapMs` apart): the accepted bodies and
   * the refusal.
   */
  const sendUntilRefused = async (l: Login, to: string, prefix: string, max = 60, gapMs = 0) => {
    const accepted: string[] = [];
    for (let i = 0; i < max; i++) {
      const body = `${prefix}-${i}`;
      const r = await send(l, to, body);
      if (r.status === 201) accepted.push(body);
      else return { accepted, refused: { body, reply: r } };
      if (gapMs) await pause(gapMs);
    }
    assert.fail(`${prefix}: ${max} sends were all accepted while the link was stalled`);
  };
  const history = async (u: TestUser, l: Login) => {
    const r = await call<{ messages: { body: string }[] }>(
      `${gw().url}/restapi/v1/chat/${u.username}/messages?limit=500`,
      { auth: bearer(l.token) },
    );
    assert.equal(r.status, 200, r.text);
    return r.body.messages.map((m) => m.body);
  };
  /** One series of this gateway's /metrics (exact name with labels). */
  const metric = async (series: string): Promise<number> => {
    const r = await call(`${gw().url}/metrics`, { auth: bearer(gw().secret) });
    const line = r.text.split('\n').find((l) => l.startsWith(series + ' '));
    assert.ok(line, `no series ${series}`);
    return Number(line.slice(series.length + 1));
  };
  /** Polls a gauge until it reads `value` (the server catching up is not instantaneous). */
  const metricBecomes = async (series: string, value: number): Promise<void> => {
    let seen = -1;
    for (let i = 0; i < 80 && seen !== value; i++) {
      seen = await metric(series);
      if (seen !== value) await pause(250);
    }
    assert.equal(seen, value, series);
  };
  return { login, send, sendUntilRefused, history, metric, metricBecomes };
}

/** A gateway that reaches the rig's XMPP server through a StallProxy, with these settings. */
async function behindProxy(env: Record<string, string>): Promise<{ proxy: StallProxy; gw: TestGateway }> {
  const proxy = new StallProxy(rig.xmpp.c2sPort);
  const port = await proxy.listen();
  return { proxy, gw: await startGateway({ XMPP_SERVICE: `xmpp://127.0.0.1:${port}`, ...env }) };
}

/** Lets what the proxy holds through, then stops the peer, the gateway and the proxy. */
async function teardown(proxy?: StallProxy, gw?: TestGateway, peer?: XmppPeer): Promise<void> {
  proxy?.resume();
  proxy?.delayDownstream(0);
  await peer?.stop();
  await gw?.stop();
  await proxy?.close();
}

const assertRefusal = (reply: Reply<Problem>, status: number, code: string) => {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.body.code, code);
  assert.match(reply.contentType, /^application\/problem\+json/);
  assert.ok(Number(reply.headers.get('retry-after')) >= 1, 'a refusal says when to come back');
};
const bodiesAt = (peer: XmppPeer) =>
  peer.stanzas
    .filter((s: Element) => s.is('message') && s.getChildText('body'))
    .map((s: Element) => s.getChildText('body')!);

/**
 * Backpressure without timing: Parley reaches Prosody through a proxy that stops reading on demand, so
 * nothing Parley writes is acknowledged (XEP-0198) until it resumes. With bounds of 20 stanzas asked about
 * and unacknowledged per session and per instance (the delay bound out of reach), the first sender is
 * refused with 429 and the second with 503, a refused message is not stored, and after the link resumes
 * every accepted message arrives exactly once.
 */
describe('backpressure: sends are refused while the XMPP link is stalled (count bounds)', function () {
  this.timeout(60_000);
  let proxy: StallProxy;
  let gw: TestGateway;
  let bob: XmppPeer | undefined;
  const { login, send, sendUntilRefused, history, metric, metricBecomes } = api(() => gw);

  before(async () => {
    ({ proxy, gw } = await behindProxy({
      PARLEY_SEND_QUEUE_SESSION: '20',
      PARLEY_SEND_QUEUE_INSTANCE: '20',
      PARLEY_SEND_MAX_DELAY_MS: '600000',
    }));
  });
  after(() => teardown(proxy, gw, bob));

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
    // A burst of concurrent sends: each admitted one holds a place until handed over, so the accepted stay
    // within her bound plus what awaits the next batched ack request; the rest are 429.
    const burst = Array.from({ length: 40 }, (_, i) => `alice-${i}`);
    const replies = await Promise.all(burst.map((body) => send(la, b.username, body)));
    const alice = {
      accepted: burst.filter((_, i) => replies[i]!.status === 201),
      refused: burst.filter((_, i) => replies[i]!.status !== 201),
    };
    for (const r of replies.filter((r) => r.status !== 201)) assertRefusal(r, 429, 'SEND_QUEUE_FULL');
    assert.ok(alice.refused.length >= 1, 'a burst of twice her bound is not all taken');
    assert.ok(alice.accepted.length <= 20 + ACK_EVERY_STANZAS - 1, `${alice.accepted.length} accepted`);
    // Sent one by one, hers are refused at the latest once an ack request covers 20 unanswered stanzas.
    const more = await sendUntilRefused(la, b.username, 'alice-more');
    assertRefusal(more.refused.reply, 429, 'SEND_QUEUE_FULL');
    alice.accepted.push(...more.accepted);
    alice.refused.push(more.refused.body);
    // Room posts share the session's bound: refused before anything is sent or awaited.
    assertRefusal(
      await call<Problem>(rooms, { auth: bearer(la.token), text: 'to the room' }),
      429,
      'SEND_QUEUE_FULL',
    );
    // Her own bound is hers alone; the instance's, reached by hers, holds Carol, who sent nothing.
    const carol = await sendUntilRefused(lc, b.username, 'carol');
    assertRefusal(carol.refused.reply, 503, 'XMPP_BACKLOG');
    assert.deepEqual(carol.accepted, []);

    // 201 means stored; a refusal leaves nothing behind.
    assert.deepEqual((await history(a, la)).sort(), ['warm-up', ...alice.accepted].sort());
    assert.deepEqual(await history(c, lc), []);
    assert.deepEqual(bodiesAt(bob), ['warm-up'], 'nothing passed the stalled link');
    assert.ok((await metric('parley_xmpp_unacked_stanzas')) >= 20);
    assert.equal(await metric('parley_send_refused_total{code="SEND_QUEUE_FULL"}'), alice.refused.length + 1);
    assert.equal(await metric('parley_send_refused_total{code="XMPP_BACKLOG"}'), 1);
    // Refused at the door (http/middleware/shedSends.ts), before the body and the token are looked at: a
    // send the route would answer 400 (empty body) or 401 (a token of no session) gets the 503 as well.
    const door = `${gw.url}/restapi/v1/chat/${lc.streamId}/messages/${b.username}`;
    assertRefusal(
      await call<Problem>(door, { method: 'POST', auth: bearer(lc.token), text: '' }),
      503,
      'XMPP_BACKLOG',
    );
    assertRefusal(
      await call<Problem>(door, { auth: bearer('not-a-token'), text: 'hi' }),
      503,
      'XMPP_BACKLOG',
    );

    proxy.resume();
    // Once the server acknowledges what waited, sends are accepted again (Retry-After is 1 s; poll faster).
    let again: Reply<Problem> | undefined;
    for (let i = 0; i < 40; i++) {
      again = await send(la, b.username, 'after');
      if (again.status === 201) break;
      assertRefusal(again, 429, 'SEND_QUEUE_FULL');
      await pause(250);
    }
    assert.equal(again?.status, 201, again?.text);
    await bob.next((s) => s.getChildText('body') === 'after');
    const expected = ['warm-up', ...alice.accepted, 'after'];
    for (const body of expected) await bob.next((s) => s.getChildText('body') === body);
    const seen = bodiesAt(bob);
    assert.deepEqual([...seen].sort(), [...expected].sort(), 'every accepted message, exactly once');
    assert.ok(![...alice.refused, carol.refused.body].some((body) => seen.includes(body)));
    assert.deepEqual((await history(a, la)).sort(), ['warm-up', ...alice.accepted, 'after'].sort());
    // The ledger does not drift: once the server has acknowledged everything, nothing is counted.
    await metricBecomes('parley_xmpp_unacked_stanzas', 0);
  });
});

/**
 * The bound in time (PARLEY_SEND_MAX_DELAY_MS): with the count bounds at their defaults (500 per session,
 * far out of reach here), a stalled server is noticed by how long it leaves an ack request unanswered.
 */
describe('backpressure: the server delay bounds what is accepted', function () {
  this.timeout(60_000);
  let proxy: StallProxy;
  let gw: TestGateway;
  let bob: XmppPeer | undefined;
  const { login, send, sendUntilRefused, history, metric, metricBecomes } = api(() => gw);

  before(async () => {
    ({ proxy, gw } = await behindProxy({ PARLEY_SEND_MAX_DELAY_MS: '200', PARLEY_SEND_MAX_STALL_MS: '800' }));
  });
  after(() => teardown(proxy, gw, bob));

  it('refuses every sender with 503 while a stalled server leaves a request unanswered past the stall bound, accepts again once it answers', async () => {
    const [d, e, b] = [await registerUser('bpd'), await registerUser('bpe'), await registerUser('bpb')];
    bob = await XmppPeer.connect(b.username, b.password);
    const [ld, le] = [await login(d), await login(e)];
    const warm = await send(ld, b.username, 'warm-up');
    assert.equal(warm.status, 201, warm.text);
    await bob.next((s) => s.getChildText('body') === 'warm-up');

    proxy.stall();
    // At a user's pace: the batched ack request goes out after 20 stanzas, and once it has waited past the
    // stall bound (the server answers nothing at all) new messages are refused — long before 500
    // unacknowledged stanzas would be.
    const dave = await sendUntilRefused(ld, b.username, 'dave', 400, 20);
    assertRefusal(dave.refused.reply, 503, 'XMPP_BACKLOG');
    assert.ok((await metric('parley_xmpp_unacked_stanzas')) < 500);
    assert.ok((await metric('parley_xmpp_server_delay_seconds')) > 0.2);
    // The server is behind for everyone: Erin, who sent nothing since it stalled, waits too.
    const erin = await send(le, b.username, 'erin-stalled');
    assertRefusal(erin, 503, 'XMPP_BACKLOG');
    assert.deepEqual((await history(d, ld)).sort(), ['warm-up', ...dave.accepted].sort());
    assert.deepEqual(await history(e, le), []);
    assert.deepEqual(bodiesAt(bob), ['warm-up'], 'nothing passed the stalled link');

    proxy.resume();
    // Answers arrive, the delay falls to nothing, and both are accepted again.
    await metricBecomes('parley_xmpp_server_delay_seconds', 0);
    for (const [l, body] of [
      [ld, 'dave-after'],
      [le, 'erin-after'],
    ] as const) {
      let r: Reply<Problem> | undefined;
      for (let i = 0; i < 40 && r?.status !== 201; i++) {
        if (r) await pause(250);
        r = await send(l, b.username, body);
      }
      assert.equal(r?.status, 201, r?.text);
    }
    const expected = ['warm-up', ...dave.accepted, 'dave-after', 'erin-after'];
    for (const body of expected) await bob.next((s) => s.getChildText('body') === body);
    const seen = bodiesAt(bob);
    assert.deepEqual([...seen].sort(), [...expected].sort(), 'every accepted message, exactly once');
    await metricBecomes('parley_xmpp_unacked_stanzas', 0);
  });
});

/**
 * A pause is not a backlog (PARLEY_SEND_MAX_STALL_MS): a server that answers nothing at all for a while, as
 * Prosody does during a collection of a large heap, is waited for up to the stall bound; past the delay
 * bound but within the stall bound, sends are still taken, stored, and delivered once it answers again.
 */
describe('backpressure: a server that pauses is waited for up to the stall bound', function () {
  this.timeout(60_000);
  let proxy: StallProxy;
  let gw: TestGateway;
  let bob: XmppPeer | undefined;
  const { login, send, metric } = api(() => gw);

  before(async () => {
    ({ proxy, gw } = await behindProxy({
      PARLEY_SEND_MAX_DELAY_MS: '200',
      PARLEY_SEND_MAX_STALL_MS: '5000',
    }));
  });
  after(() => teardown(proxy, gw, bob));

  it('takes sends while the server is silent past the delay bound, and delivers them once it answers', async () => {
    const [p, b] = [await registerUser('bpp'), await registerUser('bpq')];
    bob = await XmppPeer.connect(b.username, b.password);
    const lp = await login(p);
    const warm = await send(lp, b.username, 'warm-up');
    assert.equal(warm.status, 201, warm.text);
    await bob.next((s) => s.getChildText('body') === 'warm-up');

    proxy.stall();
    // 21 stanzas: the batched ack request goes out with the 20th, and the server answers nothing.
    const sent: string[] = [];
    for (let i = 0; i < 21; i++) {
      const r = await send(lp, b.username, `pam-${i}`);
      assert.equal(r.status, 201, r.text);
      sent.push(`pam-${i}`);
    }
    await pause(800);
    assert.ok(
      (await metric('parley_xmpp_server_delay_seconds')) > 0.5,
      'the request is past the delay bound',
    );
    const late = await send(lp, b.username, 'pam-paused');
    assert.equal(late.status, 201, `a pause is waited for: ${late.text}`);
    sent.push('pam-paused');

    proxy.resume();
    for (const body of sent) await bob.next((s) => s.getChildText('body') === body);
  });
});

/**
 * The bound on the whole path (PARLEY_SEND_MAX_TRANSIT_MS): what Prosody sends Parley is held 400 ms by the
 * proxy, as a backlog on the receiving side would, while the sender's link is healthy (its acks are late
 * too, so the delay bound is set out of reach). Messages between two users of the gateway then take over
 * 400 ms from sending to stored; once one has arrived so, sends are refused with 503 while others are on
 * their way, nothing refused is stored, and once the path is fast again and nothing is in flight, sends
 * are taken at once.
 */
describe('backpressure: the transit between users of the gateway bounds what is accepted', function () {
  this.timeout(60_000);
  let proxy: StallProxy;
  let gw: TestGateway;
  const { login, send, sendUntilRefused, history, metric, metricBecomes } = api(() => gw);

  before(async () => {
    ({ proxy, gw } = await behindProxy({
      PARLEY_SEND_MAX_TRANSIT_MS: '200',
      PARLEY_SEND_MAX_DELAY_MS: '600000',
    }));
  });
  after(() => teardown(proxy, gw));

  it('refuses with 503 while messages take longer than the bound to arrive, and accepts once they do not', async () => {
    const [f, g] = [await registerUser('bpf'), await registerUser('bpg')];
    const [lf, lg] = [await login(f), await login(g)];
    const warm = await send(lf, g.username, 'warm-up');
    assert.equal(warm.status, 201, warm.text);

    proxy.delayDownstream(400);
    // A message every 100 ms: each is on its way 400 ms, so when the first arrives others still are.
    const frank = await sendUntilRefused(lf, g.username, 'frank', 40, 100);
    assertRefusal(frank.refused.reply, 503, 'XMPP_BACKLOG');
    assert.match(frank.refused.reply.text, /messages between users of this gateway take \d+ ms to arrive/);
    assert.ok(frank.accepted.length >= 4, `${frank.accepted.length} accepted before the first arrived`);
    assert.ok((await metric('parley_local_transit_seconds')) > 0.2);

    proxy.delayDownstream(0);
    // Every accepted message reaches the recipient, the refused one is stored nowhere; with none left on
    // its way the transit reads 0 and the next send is accepted.
    const expected = ['warm-up', ...frank.accepted].sort();
    for (let i = 0; i < 40 && (await history(g, lg)).length < expected.length; i++) await pause(250);
    assert.deepEqual((await history(g, lg)).sort(), expected);
    assert.deepEqual((await history(f, lf)).sort(), expected);
    await metricBecomes('parley_local_transit_seconds', 0);
    const after = await send(lf, g.username, 'frank-after');
    assert.equal(after.status, 201, after.text);
  });
});

/**
 * What the ack policy holds back on purpose is no backlog: each session asks for an ack only every 20
 * stanzas (or after 5 s of quiet), so ten sessions sending ten messages each hold 100 stanzas unacked on a
 * healthy server. With an instance bound of 30 none of them may be refused.
 */
describe('backpressure: stanzas awaiting the batched ack request are not counted', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let bob: XmppPeer | undefined;
  const { login, send, metric } = api(() => gw);

  before(async () => {
    gw = await startGateway({ PARLEY_SEND_QUEUE_SESSION: '20', PARLEY_SEND_QUEUE_INSTANCE: '30' });
  });
  after(async () => {
    await bob?.stop();
    await gw?.stop();
  });

  it('accepts every message of many sessions each holding a few unacked stanzas', async () => {
    const b = await registerUser('bpb');
    bob = await XmppPeer.connect(b.username, b.password);
    const users = await Promise.all(Array.from({ length: 10 }, () => registerUser('bpm')));
    const logins: Login[] = [];
    for (const u of users) logins.push(await login(u));
    const bodies: string[] = [];
    for (let i = 0; i < 10; i++)
      for (const [n, l] of logins.entries()) {
        const body = `m${n}-${i}`;
        const r = await send(l, b.username, body);
        assert.equal(r.status, 201, `${body}: ${r.text}`);
        bodies.push(body);
      }
    assert.equal(await metric('parley_send_refused_total{code="XMPP_BACKLOG"}'), 0);
    for (const body of bodies) await bob.next((s) => s.getChildText('body') === body);
  });
});
