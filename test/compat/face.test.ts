import assert from 'node:assert/strict';
import { gatewayFixture } from '../helpers/fixture.js';
import { basic, bearer, call } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser, uniqueUser, type TestUser } from '../rig/users.js';

const ORIGIN = 'https://shop.example.com';

/**
 * The Openfire-compatible face (/rest/api/restapi/v1) against real Prosody + PostgreSQL: ofchat's answers
 * (igniterealtime/Openfire-Chat ChatService.java: Response.ok(), text/plain login, ServiceException → 400),
 * ofchat's body rules on both faces, and CORS for a page on another origin.
 */
describe('ofchat face: /rest/api/restapi/v1 answers as ofchat does', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({
    perTest: true,
    env: { PARLEY_CORS_ORIGINS: `${ORIGIN},https://help.example.com`, PARLEY_OFCHAT_ASK_WAIT_SECONDS: '2' },
  });
  const api = (path: string) => `${fx.gw.url}/rest/api/restapi/v1${path}`;
  const own = (path: string) => `${fx.gw.url}/restapi/v1${path}`;

  /** ofchat's login: the password as the body, 200 text/plain stream id whatever Accept says. */
  async function login(u: TestUser): Promise<string> {
    const r = await call(api(`/chat/${u.username}/login`), {
      body: u.password,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.contentType, /^text\/plain/);
    assert.match(r.text, /^\S+$/);
    return r.text;
  }

  /** Bob's stream, where the messages Alice sends arrive. */
  async function listener(u: TestUser): Promise<SseClient> {
    const events = new SseClient(`${fx.gw.url}/sse/${u.username}`, {
      headers: { Authorization: basic(u.username, u.password) },
    });
    fx.streams.push(events);
    await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    return events;
  }

  it('login answers 200 text/plain with the stream id; a second login the same one; the master secret provisions', async () => {
    const alice = await registerUser('alice');
    const sid = await login(alice);
    assert.equal(await login(alice), sid);
    const fresh = uniqueUser('carol');
    const r = await call(api(`/chat/${fresh}/login`), {
      method: 'POST',
      auth: fx.gw.secret,
      headers: { 'Content-Type': 'application/json', Accept: 'text/plain' },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.contentType, /^text\/plain/);
    assert.ok(r.headers.get('x-parley-token'), 'the session token travels in X-Parley-Token');
    // Swagger UI sends `{}` for an empty body: no password, as ofchat reads it.
    const again = await call(api(`/chat/${fresh}/login`), {
      auth: fx.gw.secret,
      body: '{}',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(again.text, r.text);
  });

  it('answers 200 with no body where Parley answers 201/204, and 400 ErrorResponse / 401 empty on errors', async () => {
    const [alice, bob] = [await registerUser('alice'), await registerUser('bob')];
    const sid = await login(alice);
    await login(bob);
    const sent = await call(api(`/chat/${sid}/messages/${bob.username}`), {
      auth: fx.gw.secret,
      text: 'hello bob',
    });
    assert.equal(sent.status, 200);
    assert.equal(sent.text, '');
    const state = await call(api(`/chat/${sid}/chatstate/composing/${bob.username}`), {
      method: 'POST',
      auth: fx.gw.secret,
    });
    assert.equal(state.status, 200);
    const unknown = await call(api('/chat/ps_nosuchstream/messages/bob'), { auth: fx.gw.secret, text: 'x' });
    assert.equal(unknown.status, 400);
    assert.equal((unknown.body as { message: string }).message, 'Exception');
    assert.match((unknown.body as { ressource: string }).ressource, /stream/);
    const anonymous = await call(api(`/chat/${sid}/messages/${bob.username}`), { text: 'x' });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.text, '');
    const off = await call(api(`/chat/${sid}/logoff`), { method: 'POST', auth: fx.gw.secret });
    assert.equal(off.status, 200);
    assert.equal(off.text, '');
  });

  it('bodies are text whatever the label: JSON with a body travels whole as data, anything else as it is (both faces)', async () => {
    const [alice, bob] = [await registerUser('alice'), await registerUser('bob')];
    const sid = await login(alice);
    await login(bob);
    const inbox = await listener(bob);
    const to = `/chat/${sid}/messages/${bob.username}`;
    const json = '{"body":"from text/plain","order":42}';
    assert.equal((await call(api(to), { auth: fx.gw.secret, text: json })).status, 200);
    const m1 = await inbox.next((e) => e.name === 'chatapi.chat' && e.data.body === 'from text/plain');
    assert.deepEqual(m1.data.data, { body: 'from text/plain', order: 42 });
    const encoded = encodeURIComponent('{ "type" : "Text", "data" : "hi"}');
    const labelled = { 'Content-Type': 'application/json' };
    assert.equal((await call(api(to), { auth: fx.gw.secret, body: encoded, headers: labelled })).status, 200);
    await inbox.next((e) => e.name === 'chatapi.chat' && e.data.body === encoded);
    // Parley's own face follows the same rule and keeps its precise statuses.
    const mine = await call(own(to), { auth: fx.gw.secret, body: 'word', headers: labelled });
    assert.equal(mine.status, 201, mine.text);
    await inbox.next((e) => e.name === 'chatapi.chat' && e.data.body === 'word');
    const viaText = await call(own(to), { auth: fx.gw.secret, text: '{"body":"own face","x":[1]}' });
    assert.equal(viaText.status, 201);
    const m4 = await inbox.next((e) => e.name === 'chatapi.chat' && e.data.body === 'own face');
    assert.deepEqual(m4.data.data, { body: 'own face', x: [1] });
    const noBody = await call(own(to), { auth: fx.gw.secret, json: { nobody: true } });
    assert.equal(noBody.status, 400);
    assert.equal((noBody.body as { code: string }).code, 'VALIDATION_FAILED');
  });

  it('ask: when no expert takes it within the wait, 400 "Timeout error, no agent available" and the request is withdrawn', async () => {
    const agent = await registerUser('agent');
    const wg = `wg-${agent.username.slice(-6)}`;
    assert.equal(
      (await call(own('/ask/admin'), { auth: fx.gw.secret, json: { name: wg, members: agent.username } }))
        .status,
      201,
    );
    const userID = `v${agent.username.slice(-6)}`;
    const ask = {
      workgroup: wg,
      userID,
      emailAddress: 'v@example.org',
      question: 'anyone?',
      extra: 'ignored',
    };
    const r = await call(api('/ask/'), { json: ask });
    assert.equal(r.status, 400);
    assert.equal((r.body as { ressource: string }).ressource, 'Timeout error, no agent available');
    const after = await call<{ status: string }>(own(`/ask/${userID}`), { auth: fx.gw.secret });
    assert.equal(after.body.status, 'canceled');
    // Parley's own face waits only when asked to (Prefer: wait), and then still answers 202 if nobody came.
    const mine = await call(own('/ask'), {
      json: { ...ask, userID: `${userID}b` },
      headers: { Prefer: 'wait=1' },
    });
    assert.equal(mine.status, 202);
    assert.equal(mine.headers.get('preference-applied'), 'wait=1');
  });

  it('room participants and occupants: Jersey 1 shapes, one occupant collapsed to an object', async () => {
    const alice = await registerUser('alice');
    const sid = await login(alice);
    const room = `solo-${alice.username.slice(-6)}`;
    assert.equal(
      (
        await call(api(`/chat/${sid}/rooms/${room}?service=conference`), {
          method: 'PUT',
          auth: fx.gw.secret,
        })
      ).status,
      200,
    );
    const p = await call<{ participant: { jid: string; role: string; affiliation: string } }>(
      api(`/chat/rooms/${room}/participants`),
      {
        auth: basic(alice.username, alice.password),
      },
    );
    assert.equal(p.status, 200);
    assert.equal(p.body.participant.jid.split('/')[1], alice.username);
    assert.equal(p.body.participant.role, 'moderator');
    assert.equal(p.body.participant.affiliation, 'owner');
    const none = await call(api(`/chat/bob/messages?keywords=nothing-${room}`), { auth: fx.gw.secret });
    assert.deepEqual(none.body, {});
  });

  describe('CORS (PARLEY_CORS_ORIGINS)', () => {
    const preflight = (origin: string, path = '/rest/api/restapi/v1/chat/alice/login') =>
      fetch(`${fx.gw.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type',
        },
      });

    it('answers the preflight of an allowed origin with credentials and the Authorization header allowed', async () => {
      for (const path of [
        '/rest/api/restapi/v1/chat/alice/login',
        '/restapi/v1/chat/alice/login',
        '/sse/alice',
      ]) {
        const r = await preflight(ORIGIN, path);
        assert.equal(r.status, 204, path);
        assert.equal(r.headers.get('access-control-allow-origin'), ORIGIN);
        assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
        assert.match(r.headers.get('access-control-allow-headers') ?? '', /Authorization/);
        assert.match(r.headers.get('access-control-allow-methods') ?? '', /POST/);
      }
    });

    it('gives a refused origin no CORS headers, and puts them on actual answers (errors too)', async () => {
      const refused = await preflight('https://evil.example.net');
      assert.equal(refused.headers.get('access-control-allow-origin'), null);
      const ok = await fetch(`${fx.gw.url}/healthz`, { headers: { Origin: ORIGIN } });
      assert.equal(ok.headers.get('access-control-allow-origin'), ORIGIN);
      const err = await fetch(api('/chat/ps_none/logoff'), { method: 'POST', headers: { Origin: ORIGIN } });
      assert.equal(err.status, 401);
      assert.equal(err.headers.get('access-control-allow-origin'), ORIGIN);
      assert.match(err.headers.get('access-control-expose-headers') ?? '', /X-Parley-Token/);
    });
  });

  it('keeps Parley’s own face precise: 201 JSON login, 204 logoff, problem+json errors', async () => {
    const alice = await registerUser('alice');
    const r = await call<{ streamId: string; token: string }>(own(`/chat/${alice.username}/login`), {
      json: { password: alice.password },
    });
    assert.equal(r.status, 201);
    const bad = await call(own('/chat/ps_none/logoff'), { method: 'POST', auth: bearer(r.body.token) });
    assert.equal(bad.status, 404);
    assert.match(bad.contentType, /problem\+json/);
    const off = await call(own(`/chat/${r.body.streamId}/logoff`), {
      method: 'POST',
      auth: bearer(r.body.token),
    });
    assert.equal(off.status, 204);
  });
});
