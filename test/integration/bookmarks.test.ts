import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import { gatewayFixture, type GatewayFixture } from '../helpers/fixture.js';
import { bearer, call, withToken, type Reply } from '../helpers/http.js';
import { expectResponseMatchesSpec } from '../helpers/openapi.js';
import { SseClient } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Bookmark = {
  jid: string;
  name: string | null;
  autojoin: boolean;
  nick: string | null;
  password: string | null;
};

const PRIVATE = 'jabber:iq:private';
const LEGACY = 'storage:bookmarks';
const room = (prefix = 'bm') => `${prefix}-${randomBytes(4).toString('hex')}`;
const roomJid = (name: string) => `${name}@conference.${rig.xmpp.domain}`;

const spec = (method: string, template: string, r: Reply<unknown>) =>
  expectResponseMatchesSpec(method, template, r.status, r.contentType, r.text === '' ? '' : r.body);

async function user(fx: GatewayFixture, prefix: string) {
  const u = await registerUser(prefix);
  const login = await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
    json: { password: u.password },
  });
  assert.equal(login.status, 201, login.text);
  const l = login.body;
  const events = new SseClient(withToken(l.events, l.token));
  fx.streams.push(events);
  await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
  const api = <T = Record<string, unknown>>(path: string, init: Parameters<typeof call>[1] = {}) =>
    call<T>(`${fx.gw.url}/restapi/v1/chat/${l.streamId}${path}`, { auth: bearer(l.token), ...init });
  return { ...u, ...l, api, events };
}

/** The user's XEP-0048 document, as a native client of theirs reads it (XEP-0049 private storage). */
async function legacyStorage(peer: XmppPeer): Promise<Element | undefined> {
  const result = (await peer.x.iqCaller.request(
    xml('iq', { type: 'get' }, xml('query', { xmlns: PRIVATE }, xml('storage', { xmlns: LEGACY }))),
    5000,
  )) as Element;
  return result.getChild('storage', LEGACY) ?? result.getChild('query', PRIVATE)?.getChild('storage', LEGACY);
}

const conferences = (storage: Element | undefined) =>
  (storage?.getChildren('conference') ?? []).map((c) => ({
    jid: String(c.attrs.jid),
    name: c.attrs.name as string | undefined,
    autojoin: c.attrs.autojoin === 'true' || c.attrs.autojoin === '1',
    nick: c.getChildText('nick') ?? undefined,
  }));

describe('room bookmarks (XEP-0402 on Prosody, synced to XEP-0048 for native clients)', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({ perTest: true });

  it('adds, replaces, lists and removes bookmarks; every tab hears; a native client of the user sees them', async () => {
    const alice = await user(fx, 'bm-alice');
    const name = room();
    const added = await alice.api<Bookmark>(`/bookmarks/${name}`, {
      method: 'PUT',
      json: { name: 'Team room', autojoin: true, nick: 'Ally' },
    });
    assert.equal(added.status, 201, added.text);
    spec('PUT', '/restapi/v1/chat/{streamid}/bookmarks/{room}', added);
    assert.deepEqual(added.body, {
      jid: roomJid(name),
      name: 'Team room',
      autojoin: true,
      nick: 'Ally',
      password: null,
    });
    const event = await alice.events.next((e) => e.name === 'chatapi.bookmarks' && e.data.type === 'set');
    assert.deepEqual(event.data.bookmark, added.body);
    assert.match(event.id, /^\d+$/);

    const replaced = await alice.api<Bookmark>(`/bookmarks/${roomJid(name)}`, {
      method: 'PUT',
      json: { name: 'Team', autojoin: false },
    });
    assert.equal(replaced.status, 200, replaced.text);
    const second = room();
    assert.equal((await alice.api(`/bookmarks/${second}`, { method: 'PUT' })).status, 201);

    const list = await alice.api<{ bookmarks: Bookmark[] }>('/bookmarks');
    assert.equal(list.status, 200, list.text);
    spec('GET', '/restapi/v1/chat/{streamid}/bookmarks', list);
    assert.deepEqual(
      list.body.bookmarks.map((b) => [b.jid, b.name, b.autojoin]),
      [
        [roomJid(name), 'Team', false],
        [roomJid(second), null, false],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const one = await alice.api<Bookmark>(`/bookmarks/${name}`);
    assert.equal(one.status, 200);
    spec('GET', '/restapi/v1/chat/{streamid}/bookmarks/{room}', one);

    // The server keeps them, not Parley: the user's native client reads them in XEP-0048 form.
    const phone = await XmppPeer.connect(alice.username, alice.password, 'phone');
    fx.peers.push(phone);
    const seen = conferences(await legacyStorage(phone));
    assert.deepEqual(seen.map((c) => c.jid).sort(), [roomJid(name), roomJid(second)].sort());
    assert.equal(seen.find((c) => c.jid === roomJid(name))!.name, 'Team');

    const removed = await alice.api(`/bookmarks/${name}`, { method: 'DELETE' });
    assert.equal(removed.status, 204, removed.text);
    spec('DELETE', '/restapi/v1/chat/{streamid}/bookmarks/{room}', removed);
    await alice.events.next((e) => e.name === 'chatapi.bookmarks' && e.data.type === 'removed');
    const gone = await alice.api(`/bookmarks/${name}`);
    assert.equal(gone.status, 404);
    assert.equal((await alice.api(`/bookmarks/${name}`, { method: 'DELETE' })).status, 404);
    assert.deepEqual(
      conferences(await legacyStorage(phone)).map((c) => c.jid),
      [roomJid(second)],
    );
  });

  it('refuses bad input precisely', async () => {
    const bob = await user(fx, 'bm-bob');
    const unknown = await bob.api(`/bookmarks/${room()}`, { method: 'PUT', json: { autojoin: 'yes' } });
    assert.equal(unknown.status, 400, unknown.text);
    assert.equal((await bob.api('/bookmarks/bad room', { method: 'PUT' })).status, 400);
    const text = await bob.api(`/bookmarks/${room()}`, { method: 'PUT', text: 'hello' });
    assert.equal(text.status, 415, text.text);
    const nick = await bob.api(`/bookmarks/${room()}`, { method: 'PUT', json: { nick: ' padded ' } });
    assert.equal(nick.status, 400, nick.text);
  });
});

describe('room bookmarks in XEP-0048 private storage (PARLEY_BOOKMARKS_STORAGE=private)', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({ perTest: true, env: { PARLEY_BOOKMARKS_STORAGE: 'private' } });

  it("keeps the rooms native clients stored beside Parley's bookmarks", async () => {
    const carol = await user(fx, 'bm-carol');
    const desktop = await XmppPeer.connect(carol.username, carol.password, 'desktop');
    fx.peers.push(desktop);
    // A native client stored a URL bookmark and a room of its own.
    const theirs = room('native');
    await desktop.x.iqCaller.request(
      xml(
        'iq',
        { type: 'set' },
        xml(
          'query',
          { xmlns: PRIVATE },
          xml(
            'storage',
            { xmlns: LEGACY },
            xml('url', { name: 'Docs', url: 'https://example.org/docs' }),
            xml(
              'conference',
              { jid: roomJid(theirs), autojoin: 'true', name: 'Native' },
              xml('nick', {}, 'C'),
            ),
          ),
        ),
      ),
      5000,
    );
    const mine = room();
    assert.equal(
      (await carol.api(`/bookmarks/${mine}`, { method: 'PUT', json: { name: 'Mine', nick: 'Carol' } }))
        .status,
      201,
    );
    const list = await carol.api<{ bookmarks: Bookmark[] }>('/bookmarks');
    assert.deepEqual(list.body.bookmarks.map((b) => b.jid).sort(), [roomJid(mine), roomJid(theirs)].sort());
    assert.equal(list.body.bookmarks.find((b) => b.jid === roomJid(theirs))!.nick, 'C');

    assert.equal((await carol.api(`/bookmarks/${theirs}`, { method: 'DELETE' })).status, 204);
    const storage = await legacyStorage(desktop);
    assert.deepEqual(
      conferences(storage).map((c) => [c.jid, c.name, c.nick]),
      [[roomJid(mine), 'Mine', 'Carol']],
    );
    // (Whether the URL bookmark survives is the server's business: Prosody's mod_bookmarks keeps XEP-0048
    // as XEP-0402 items, which have no URLs. Parley rewrites the document keeping whatever it held:
    // test/unit/bookmarks/formats.test.ts.)
  });
});

describe('room invitations with a meeting link (PARLEY_MEETING_URL_TEMPLATE)', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({
    perTest: true,
    env: { PARLEY_MEETING_URL_TEMPLATE: 'https://meet.example.org/rooms/{room}' },
  });

  it("carries the room's https meeting link as url, and the XMPP URI beside it", async () => {
    const [dan, erin] = [await user(fx, 'bm-dan'), await user(fx, 'bm-erin')];
    const name = room('meet');
    const joined = await dan.api<{ room: string }>(`/rooms/${name}`, { method: 'PUT' });
    assert.equal(joined.status, 201, joined.text);
    assert.equal((await dan.api(`/rooms/${name}/${erin.username}`, { text: 'meet us' })).status, 204);
    const inv = await erin.events.next(
      (e) => e.name === 'chatapi.muc' && e.data.type === 'invitationReceived',
    );
    assert.equal(inv.data.url, `https://meet.example.org/rooms/${name}`);
    assert.equal(inv.data.xmppUri, `xmpp:${roomJid(name)}?join`);
  });
});
