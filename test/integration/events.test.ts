import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { basic, bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string };

describe('SSE event streams', () => {
  let gw: TestGateway;
  const open: SseClient[] = [];
  before(async () => {
    gw = await startGateway();
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => {
    await gw?.stop();
  });

  const login = async (u: TestUser) =>
    (await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } }))
      .body;
  const sse = (url: string, headers?: Record<string, string>) => {
    const c = new SseClient(url, { headers });
    open.push(c);
    return c;
  };

  it('sends a current-state snapshot without an id first', async () => {
    const u = await registerUser('snap');
    const l = await login(u);
    const c = sse(withToken(l.events, l.token));
    const first = await c.next((e) => e.name === 'chatapi.session');
    assert.deepEqual({ ...first.data }, { type: 'online', streamId: l.streamId, jid: u.jid, snapshot: true });
    assert.equal(first.id, '');
  });

  it('delivers every event to every open stream of the user (two tabs)', async () => {
    const u = await registerUser('tabs');
    const l = await login(u);
    const tab1 = sse(withToken(l.events, l.token));
    const tab2 = sse(`${gw.url}/sse/${u.username}`, { Authorization: basic(u.username, u.password) });
    await Promise.all([tab1.opened, tab2.opened]);
    await Promise.all([
      tab1.next((e) => e.data.snapshot === true),
      tab2.next((e) => e.data.snapshot === true),
    ]);
    const off = await call(`${gw.url}/restapi/v1/chat/${l.streamId}/logoff`, {
      method: 'POST',
      auth: bearer(l.token),
    });
    assert.equal(off.status, 204);
    const [a, b] = await Promise.all([
      tab1.next((e) => e.data.type === 'offline'),
      tab2.next((e) => e.data.type === 'offline'),
    ]);
    assert.equal(a.id, b.id);
    assert.match(a.id, /^\d+$/);
    assert.equal(a.data.id, a.id, 'payload carries its id');
    assert.equal(a.data.reason, 'logoff');
    assert.ok(!Number.isNaN(Date.parse(a.data.timestamp as string)));
  });

  it('ends the streams of a session that logs off, after its offline event', async () => {
    const u = await registerUser('ends');
    const l = await login(u);
    const res = await fetch(withToken(l.events, l.token));
    await call(`${gw.url}/restapi/v1/chat/${l.streamId}/logoff`, { method: 'POST', auth: bearer(l.token) });
    const text = await res.text(); // resolves only because the server ended the response
    assert.match(text, /"type":"offline"/);
  });

  it('replays exactly the durable events missed, given Last-Event-ID', async () => {
    const u = await registerUser('replay');
    const l1 = await login(u);
    const c1 = sse(withToken(l1.events, l1.token));
    await c1.next((e) => e.data.snapshot === true);
    // The login's own `online` event was stored before the stream opened: fetch it via replay from 0.
    const c0 = sse(withToken(l1.events, l1.token, '0'));
    const online1 = await c0.next((e) => e.data.type === 'online' && e.id !== '');
    c0.close();
    c1.close();

    // Missed while no stream was open: offline (logoff) and online (the new login).
    await call(`${gw.url}/restapi/v1/chat/${l1.streamId}/logoff`, { method: 'POST', auth: bearer(l1.token) });
    const l2 = await login(u);
    const c2 = sse(l2.events, { Authorization: bearer(l2.token), 'Last-Event-ID': online1.id });
    const online2 = await c2.next(
      (e) => e.data.type === 'online' && e.id !== '' && e.data.streamId === l2.streamId,
    );
    const durable = c2.events.filter((e) => e.id !== '');
    assert.deepEqual(
      durable.map((e) => [e.data.type, e.data.streamId]),
      [
        ['offline', l1.streamId],
        ['online', l2.streamId],
      ],
    );
    assert.ok(BigInt(durable[0]!.id) > BigInt(online1.id));
    assert.equal(durable[1], online2);
  });

  it('rejects a malformed Last-Event-ID with 400 and a foreign token with 403', async () => {
    const a = await registerUser('lei');
    const b = await registerUser('other');
    const la = await login(a);
    const lb = await login(b);
    const bad = await call(withToken(la.events, la.token), { headers: { 'Last-Event-ID': 'abc' } });
    assert.equal(bad.status, 400);
    const foreign = await call(withToken(lb.events, la.token));
    assert.equal(foreign.status, 403);
    const noSession = await call(`${gw.url}/sse/nobody-here`, { auth: gw.secret });
    assert.equal(noSession.status, 404);
  });
});
