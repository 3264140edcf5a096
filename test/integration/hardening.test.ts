/**
 * Issue 21 item 11, the smaller hardening findings, each driven through the real HTTP API against the
 * real Prosody and PostgreSQL: room files after a ban, the minimum user-search term, absolute URLs that
 * ignore the request's Host, and room passwords kept out of the query string (rooms.test.ts).
 */
import assert from 'node:assert/strict';
import { gatewayFixture } from '../helpers/fixture.js';
import { bearer, call } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { withToken } from '../helpers/http.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Problem = { code: string; errors?: { path: string; message: string }[] };

describe('smaller hardening (issue 21 item 11)', function () {
  this.timeout(30_000);
  const fx = gatewayFixture();

  const login = async (name: string): Promise<Login & { username: string }> => {
    const u = await registerUser(name);
    const r = await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return { ...r.body, username: u.username };
  };
  const open = (l: Login): SseClient => {
    const s = new SseClient(withToken(l.events, l.token));
    fx.streams.push(s);
    return s;
  };
  const upload = async (l: Login, text: string, headers: Record<string, string> = {}) => {
    const r = await call<{ id: string; url: string }>(
      `${fx.gw.url}/restapi/v1/chat/${l.streamId}/files?name=notes.txt`,
      {
        method: 'POST',
        auth: bearer(l.token),
        body: text,
        headers: { 'Content-Type': 'text/plain', ...headers },
      },
    );
    assert.equal(r.status, 201, r.text);
    return r.body;
  };
  const readStatus = async (url: string, l: Login): Promise<number> => {
    const res = await fetch(url, { headers: { Authorization: bearer(l.token) } });
    await res.arrayBuffer();
    return res.status;
  };
  const joinRoom = async (l: Login, room: string, nick: string, history = 20) => {
    const r = await call(`${fx.gw.url}/restapi/v1/chat/${l.streamId}/rooms/${room}?nick=${nick}`, {
      method: 'PUT',
      auth: bearer(l.token),
      json: { history },
    });
    assert.ok(r.status === 200 || r.status === 201, r.text);
  };
  const postToRoom = async (l: Login, room: string, json: object) => {
    const r = await call(`${fx.gw.url}/restapi/v1/chat/${l.streamId}/rooms/${room}`, {
      method: 'POST',
      auth: bearer(l.token),
      json,
    });
    assert.ok(r.status === 201 || r.status === 202, r.text);
  };

  it('a room file is readable by those in the room when it was posted, not by later joiners, and no longer after a ban', async () => {
    const [alice, bob, dave] = [await login('alice'), await login('bob'), await login('dave')];
    const [bobTab, daveTab] = [open(bob), open(dave)];
    const room = `banfiles-${Date.now().toString(36)}`;
    await joinRoom(alice, room, 'Alice');
    await joinRoom(bob, room, 'Bob');
    const file = await upload(alice, 'minutes\n');
    await postToRoom(alice, room, { attachments: [file.id] });
    await bobTab.next((e) => e.name === 'chatapi.muc' && e.data.body === file.url);
    assert.equal(await readStatus(file.url, bob), 200, 'an occupant when it was posted');

    // Dave joins afterwards without the room's history and then hears other talk in the room: he never
    // held the message that carried the file.
    await joinRoom(dave, room, 'Dave', 0);
    await postToRoom(alice, room, { body: 'welcome, Dave' });
    await daveTab.next((e) => e.name === 'chatapi.muc' && e.data.body === 'welcome, Dave');
    assert.equal(await readStatus(file.url, dave), 403, 'a later joiner');

    const ban = await call(
      `${fx.gw.url}/restapi/v1/chat/${alice.streamId}/rooms/${room}/affiliations/${bob.username}`,
      { method: 'PUT', auth: bearer(alice.token), json: { affiliation: 'outcast', reason: 'spam' } },
    );
    assert.equal(ban.status, 204, ban.text);
    await bobTab.next((e) => e.name === 'chatapi.muc' && e.data.type === 'left' && e.data.cause === 'banned');
    assert.equal(await readStatus(file.url, bob), 403, 'banned since');
    assert.equal(await readStatus(file.url, alice), 200, 'the uploader keeps access');
  });

  it('refuses a user search shorter than two characters with a clear 400', async () => {
    const l = await login('searcher');
    for (const q of ['', '?search=', '?search=%20%20', '?search=a']) {
      const r = await call<Problem>(`${fx.gw.url}/restapi/v1/chat/users${q}`, { auth: bearer(l.token) });
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(r.contentType, 'application/problem+json');
      assert.equal(r.body.code, 'VALIDATION_FAILED');
      assert.equal(r.body.errors?.[0]?.path, 'query.search');
    }
    for (const auth of [bearer(l.token), fx.gw.secret]) {
      const r = await call<Problem>(`${fx.gw.url}/restapi/v1/chat/users`, { auth });
      assert.equal(r.status, 400, 'the master secret does not list everyone either');
    }
    const ok = await call<{ users: { username: string }[] }>(
      `${fx.gw.url}/restapi/v1/chat/users?search=${l.username.slice(0, 8)}`,
      { auth: bearer(l.token) },
    );
    assert.equal(ok.status, 200, ok.text);
  });

  it('builds the URLs it hands out from its own address, never from Host or X-Forwarded-* headers', async () => {
    const l = await login('forwarded');
    const file = await upload(l, 'hello\n', {
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Proto': 'https',
    });
    assert.ok(file.url.startsWith(`${fx.gw.url}/files/`), file.url);
    assert.equal(await readStatus(file.url, l), 200);
  });
});
