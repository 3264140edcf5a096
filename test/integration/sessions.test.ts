import assert from 'node:assert/strict';
import pg from 'pg';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { basic, bearer, call } from '../helpers/http.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser, uniqueUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

type Login = {
  streamId: string;
  token: string;
  jid: string;
  resource: string;
  events: string;
  reused: boolean;
};
type Problem = { code: string; status: number; detail: string; type: string; title: string };

describe('sessions (login, logoff, tokens) against real Prosody + PostgreSQL', () => {
  let gw: TestGateway;
  let watcher: XmppPeer;
  before(async () => {
    gw = await startGateway();
    const w = await registerUser('watcher');
    watcher = await XmppPeer.connect(w.username, w.password);
  });
  after(async () => {
    await watcher?.stop();
    await gw?.stop();
  });

  const login = (user: string, init: Parameters<typeof call>[1]) =>
    call<Login>(`${gw.url}/restapi/v1/chat/${user}/login`, { method: 'POST', ...init });

  it("logs in with the user's password (JSON) and holds a real XMPP session", async () => {
    const u = await registerUser('alice');
    const r = await login(u.username, { json: { password: u.password } });
    assert.equal(r.status, 201);
    assert.match(r.body.streamId, /^ps_/);
    assert.equal(r.body.jid, u.jid);
    assert.equal(r.body.events, `${gw.url}/restapi/v1/chat/${r.body.streamId}/events?lastEventId=0`);
    assert.ok(await watcher.ping(`${u.jid}/${r.body.resource}`), 'Prosody sees the session online');
  });

  it('answers ofchat clients with a text/plain stream id for a text/plain password', async () => {
    const u = await registerUser('ofchat');
    const r = await login(u.username, { text: u.password, headers: { Accept: 'text/plain' } });
    assert.equal(r.status, 201);
    assert.match(r.contentType, /^text\/plain/);
    assert.match(r.text, /^ps_[\w-]{16}$/);
    assert.ok(r.headers.get('x-parley-token'));
  });

  it('accepts Basic credentials, and a second login reuses the stream with a new token', async () => {
    const u = await registerUser('bob');
    const first = await login(u.username, { auth: basic(u.username, u.password) });
    const second = await login(u.username, { json: { password: u.password } });
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal(second.body.streamId, first.body.streamId);
    assert.equal(second.body.reused, true);
    assert.notEqual(second.body.token, first.body.token);
    for (const t of [first.body.token, second.body.token]) {
      const info = await call(`${gw.url}/restapi/v1/chat/${first.body.streamId}`, { auth: bearer(t) });
      assert.equal(info.status, 200);
    }
  });

  it('rejects a wrong password with 401 problem+json, also when the session is live', async () => {
    const u = await registerUser('carol');
    const wrong = await login(u.username, { json: { password: 'nope' } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.contentType, /^application\/problem\+json/);
    assert.equal((wrong.body as unknown as Problem).code, 'BAD_CREDENTIALS');
    await login(u.username, { json: { password: u.password } });
    const wrongAgain = await login(u.username, { json: { password: 'still-wrong' } });
    assert.equal(wrongAgain.status, 401);
  });

  it('provisions an account over XEP-0133 for a master-secret login and reuses it', async () => {
    const name = uniqueUser('managed');
    const first = await login(name, { auth: gw.secret });
    assert.equal(first.status, 201, first.text);
    const second = await login(name, { auth: `Bearer ${gw.secret}` });
    assert.equal(second.status, 200);
    assert.equal(second.body.streamId, first.body.streamId);
    const db = new pg.Client({ connectionString: gw.dbUrl });
    await db.connect();
    const { rows } = await db.query('SELECT jid, password_enc FROM accounts WHERE username = $1', [name]);
    await db.end();
    assert.equal(rows[0]?.jid, `${name}@${rig.xmpp.domain}`);
    assert.match(rows[0]?.password_enc as string, /^v1\./, 'password kept encrypted');
    assert.ok(await watcher.ping(`${first.body.jid}/${first.body.resource}`));
  });

  it('refuses to take over an account Parley did not create (409)', async () => {
    const u = await registerUser('native');
    const r = await login(u.username, { auth: gw.secret });
    assert.equal(r.status, 409);
    assert.equal((r.body as unknown as Problem).code, 'ACCOUNT_NOT_MANAGED');
  });

  it("answers 404 for an unknown stream and 403 for another user's token", async () => {
    const a = await registerUser('dave');
    const b = await registerUser('erin');
    const la = await login(a.username, { json: { password: a.password } });
    const lb = await login(b.username, { json: { password: b.password } });
    const unknown = await call(`${gw.url}/restapi/v1/chat/ps_AAAAAAAAAAAAAAAA/logoff`, {
      method: 'POST',
      auth: bearer(la.body.token),
    });
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as unknown as Problem).code, 'STREAM_NOT_FOUND');
    const theirs = await call(`${gw.url}/restapi/v1/chat/${lb.body.streamId}/logoff`, {
      method: 'POST',
      auth: bearer(la.body.token),
    });
    assert.equal(theirs.status, 403);
    assert.equal((theirs.body as unknown as Problem).code, 'NOT_YOUR_STREAM');
    const none = await call(`${gw.url}/restapi/v1/chat/${la.body.streamId}`);
    assert.equal(none.status, 401);
  });

  it('logoff ends the XMPP session', async () => {
    const u = await registerUser('frank');
    const r = await login(u.username, { json: { password: u.password } });
    const full = `${u.jid}/${r.body.resource}`;
    assert.ok(await watcher.ping(full));
    const off = await call(`${gw.url}/restapi/v1/chat/${r.body.streamId}/logoff`, {
      method: 'POST',
      auth: bearer(r.body.token),
    });
    assert.equal(off.status, 204);
    assert.equal(await watcher.ping(full), false, 'Prosody no longer routes to the resource');
    const after = await call(`${gw.url}/restapi/v1/chat/${r.body.streamId}`, { auth: bearer(r.body.token) });
    assert.equal(after.status, 404);
  });

  describe('bad input', () => {
    it('malformed JSON → 400 INVALID_JSON', async () => {
      const r = await login('someone', {
        body: '{"password": ',
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(r.status, 400);
      assert.equal((r.body as unknown as Problem).code, 'INVALID_JSON');
    });
    it('unknown fields → 400 VALIDATION_FAILED naming them', async () => {
      const r = await login('someone', { json: { password: 'x', remember: true } });
      assert.equal(r.status, 400);
      assert.equal((r.body as unknown as Problem).code, 'VALIDATION_FAILED');
      assert.match((r.body as unknown as Problem).detail, /remember/);
    });
    it('oversized body → 413', async () => {
      const r = await login('someone', { text: 'x'.repeat(300 * 1024) });
      assert.equal(r.status, 413);
      assert.equal((r.body as unknown as Problem).code, 'BODY_TOO_LARGE');
    });
    it('invalid username → 400 INVALID_USERNAME', async () => {
      const r = await login('bad%20name%40x', { json: { password: 'x' } });
      assert.equal(r.status, 400);
      assert.equal((r.body as unknown as Problem).code, 'INVALID_USERNAME');
    });
    it('no credentials at all → 401 with WWW-Authenticate', async () => {
      const r = await login('someone', {});
      assert.equal(r.status, 401);
      assert.ok(r.headers.get('www-authenticate'));
    });
    it('unsupported content type → 415', async () => {
      const r = await login('someone', {
        body: '<password/>',
        headers: { 'Content-Type': 'application/xml' },
      });
      assert.equal(r.status, 415);
    });
  });
});
