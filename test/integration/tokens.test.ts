import assert from 'node:assert/strict';
import { gatewayFixture } from '../helpers/fixture.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string };
type Ticket = { ticket: string; expiresIn: number };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('session tokens expire, and event streams open with tickets', function () {
  this.timeout(30_000);
  const fx = gatewayFixture({ env: { PARLEY_TOKEN_TTL_SECONDS: '2' }, perTest: true });

  const login = async () => {
    const u = await registerUser('ttl');
    const l = (
      await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
        json: { password: u.password },
      })
    ).body;
    return { u, l };
  };
  const info = (streamId: string, auth: string) => call(`${fx.gw.url}/restapi/v1/chat/${streamId}`, { auth });

  it('refuses a token PARLEY_TOKEN_TTL_SECONDS after its login while the session lives on', async () => {
    const { u, l } = await login();
    assert.equal((await info(l.streamId, bearer(l.token))).status, 200);
    await sleep(2200);
    const late = await info(l.streamId, bearer(l.token));
    assert.equal(late.status, 401);
    assert.equal((await call(withToken(l.events, l.token))).status, 401, '?token= on the stream too');
    assert.equal((await info(l.streamId, fx.gw.secret)).status, 200, 'the session itself lives on');
    const again = (
      await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
        json: { password: u.password },
      })
    ).body;
    assert.equal(again.streamId, l.streamId, 'logging in again gives the same session a fresh token');
    assert.equal((await info(l.streamId, bearer(again.token))).status, 200);
  });

  it('opens the stream with a ticket once, for that stream only', async () => {
    const a = await login();
    const b = await login();
    const t = await call<Ticket>(`${fx.gw.url}/restapi/v1/chat/${a.l.streamId}/events/ticket`, {
      method: 'POST',
      auth: bearer(a.l.token),
    });
    assert.equal(t.status, 201);
    assert.equal(t.body.expiresIn, 60);
    assert.equal(t.headers.get('cache-control'), 'no-store');
    const url = (events: string, ticket: string) => {
      const u = new URL(events);
      u.searchParams.set('ticket', ticket);
      return u.toString();
    };

    const other = await call(url(b.l.events, t.body.ticket));
    assert.equal(other.status, 401, "a ticket does not open another session's stream");
    const s = new SseClient(url(a.l.events, t.body.ticket));
    fx.streams.push(s);
    const snap = await s.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    assert.equal(snap.data.streamId, a.l.streamId);
    assert.equal((await call(url(a.l.events, t.body.ticket))).status, 401, 'a ticket works once');
    assert.equal((await call(url(a.l.events, `${t.body.ticket}x`))).status, 401);

    const noAuth = await call(`${fx.gw.url}/restapi/v1/chat/${a.l.streamId}/events/ticket`, {
      method: 'POST',
    });
    assert.equal(noAuth.status, 401);
    const notYours = await call(`${fx.gw.url}/restapi/v1/chat/${a.l.streamId}/events/ticket`, {
      method: 'POST',
      auth: bearer(b.l.token),
    });
    assert.equal(notYours.status, 403);
  });
});
