import assert from 'node:assert/strict';
import xml, { type Element } from '@xmpp/xml';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { basic, bearer, call, withToken } from '../helpers/http.js';
import { expectEventMatchesSpec } from '../helpers/openapi.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; resource: string };
type Contact = {
  jid: string;
  nickname: string | null;
  groups: string[];
  subscription: string;
  subscriptionType: number;
  pending: boolean;
  show: string;
  status: string | null;
};

/**
 * Parley users ↔ native XMPP clients (plain @xmpp/client) on the rig's Prosody: presence, roster, blocking,
 * profiles, raw stanzas. `call` checks every answer against openapi.yaml; events are checked here.
 */
describe('contacts, presence and blocking against real Prosody + PostgreSQL', () => {
  let gw: TestGateway;
  const peers: XmppPeer[] = [];
  const streams: SseClient[] = [];
  before(async () => {
    gw = await startGateway();
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await Promise.all(peers.splice(0).map((p) => p.stop()));
  });
  after(async () => {
    await gw?.stop();
  });

  /** A Parley user, logged in, with an open event stream. */
  async function parleyUser(prefix: string, raw = false) {
    const u = await registerUser(prefix);
    const l = (
      await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } })
    ).body;
    const url = new URL(withToken(l.events, l.token));
    if (raw) url.searchParams.set('raw', '1');
    const events = new SseClient(url.toString());
    streams.push(events);
    await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    const base = `${gw.url}/restapi/v1/chat/${l.streamId}`;
    const api = <T = Record<string, unknown>>(path: string, init: Parameters<typeof call>[1] = {}) =>
      call<T>(base + path, { auth: bearer(l.token), ...init });
    return { ...u, ...l, eventsUrl: l.events, base, api, events };
  }

  /** Prosody routes subscription requests and roster pushes only to resources that fetched the roster (RFC 6121 §2.1.6). */
  const interested = (x: XmppPeer) =>
    x.x.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));

  async function nativeUser(prefix: string, resource = 'peer'): Promise<TestUser & { x: XmppPeer }> {
    const u = await registerUser(prefix);
    const x = await XmppPeer.connect(u.username, u.password, resource);
    await interested(x);
    peers.push(x);
    return { ...u, x };
  }

  const presenceFrom =
    (jid: string, extra: (e: ReceivedEvent) => boolean = () => true) =>
    (e: ReceivedEvent) =>
      e.name === 'chatapi.presence' && String(e.data.from).split('/')[0] === jid && extra(e);
  const stanzaFrom = (name: string, jid: string, type?: string) => (s: Element) =>
    s.name === name && String(s.attrs.from).split('/')[0] === jid && s.attrs.type === type;

  /** Alice (Parley) and Bob (native) become mutual contacts through the API and real subscription stanzas. */
  async function mutual(alice: Awaited<ReturnType<typeof parleyUser>>, bob: TestUser & { x: XmppPeer }) {
    const added = await alice.api<Contact>('/contacts', {
      json: { jid: bob.jid, nickname: 'Bob', groups: ['Team'] },
    });
    assert.equal(added.status, 201);
    assert.deepEqual(
      { ...added.body },
      {
        jid: bob.jid,
        nickname: 'Bob',
        groups: ['Team'],
        subscription: 'none',
        subscriptionType: 0,
        pending: true,
        show: 'offline',
        status: null,
      },
    );
    await bob.x.next(stanzaFrom('presence', alice.jid, 'subscribe'));
    await bob.x.send(xml('presence', { to: alice.jid, type: 'subscribed' }));
    await bob.x.send(xml('presence', { to: alice.jid, type: 'subscribe' }));
    const request = await alice.events.next(presenceFrom(bob.jid, (e) => e.data.type === 'subscribe'));
    assert.match(request.id, /^\d+$/, 'a subscription request is durable');
    expectEventMatchesSpec(request.name, request.data, request.id);
    const approved = await alice.api('/contacts/' + encodeURIComponent(bob.jid) + '/subscription', {
      method: 'POST',
    });
    assert.equal(approved.status, 204);
    await bob.x.next(stanzaFrom('presence', alice.jid, 'subscribed'));
    await bob.x.next(stanzaFrom('presence', alice.jid, undefined));
  }

  it('exchanges presence both ways with a native client after a subscription approved through the API', async () => {
    const alice = await parleyUser('alice');
    const bob = await nativeUser('bob');
    await mutual(alice, bob);

    const set = await alice.api(
      '/presence?show=dnd&status=' + encodeURIComponent('in a meeting') + '&priority=5',
      { method: 'POST' },
    );
    assert.equal(set.status, 200);
    const seen = await bob.x.next(
      (s) => stanzaFrom('presence', alice.jid)(s) && s.getChildText('show') === 'dnd',
    );
    assert.equal(seen.getChildText('status'), 'in a meeting');
    assert.equal(seen.getChildText('priority'), '5');

    await bob.x.send(xml('presence', {}, xml('show', {}, 'away'), xml('status', {}, 'lunch')));
    const away = await alice.events.next(presenceFrom(bob.jid, (e) => e.data.show === 'away'));
    assert.deepEqual(
      { ...away.data },
      { type: 'available', from: `${bob.jid}/peer`, to: alice.jid, show: 'away', status: 'lunch' },
    );
    assert.equal(away.id, '', 'presence is ephemeral');
    expectEventMatchesSpec(away.name, away.data);

    const contacts = await alice.api<{ contacts: Contact[] }>('/contacts');
    assert.deepEqual(
      contacts.body.contacts.map((c) => [c.jid, c.subscription, c.subscriptionType, c.show, c.status]),
      [[bob.jid, 'both', 3, 'away', 'lunch']],
    );

    await bob.x.stop();
    const gone = await alice.events.next(presenceFrom(bob.jid, (e) => e.data.type === 'unavailable'));
    assert.equal(gone.data.show, 'offline');
  });

  it('sends a presence snapshot on every stream (re)connect and answers it as JSON', async () => {
    const alice = await parleyUser('snap');
    const bob = await nativeUser('bob');
    const carol = await nativeUser('carol');
    await mutual(alice, bob);
    await mutual(alice, carol);
    await bob.x.send(xml('presence', {}, xml('show', {}, 'xa'), xml('status', {}, 'on holiday')));
    await alice.events.next(presenceFrom(bob.jid, (e) => e.data.show === 'xa'));
    await carol.x.stop();
    await alice.events.next(presenceFrom(carol.jid, (e) => e.data.type === 'unavailable'));

    for (let i = 0; i < 2; i++) {
      const again = new SseClient(withToken(alice.eventsUrl, alice.token));
      streams.push(again);
      const bobNow = await again.next(presenceFrom(bob.jid));
      assert.deepEqual(
        { ...bobNow.data },
        {
          type: 'available',
          from: `${bob.jid}/peer`,
          to: alice.jid,
          show: 'xa',
          status: 'on holiday',
          snapshot: true,
        },
      );
      expectEventMatchesSpec(bobNow.name, bobNow.data);
      const carolNow = await again.next(presenceFrom(carol.jid));
      assert.deepEqual(
        [carolNow.data.type, carolNow.data.show, carolNow.data.snapshot],
        ['unavailable', 'offline', true],
      );
      again.close();
    }
    const json = await alice.api<{ own: unknown; contacts: { from: string; show: string }[] }>('/presence');
    assert.deepEqual(json.body.contacts.map((c) => [c.from, c.show]).sort(), [
      [`${bob.jid}/peer`, 'xa'],
      [carol.jid, 'offline'],
    ]);
  });

  it("knows contacts' presence right after a new login, and does not repeat a pending request", async () => {
    const alice = await parleyUser('relog');
    const bob = await nativeUser('bob');
    const eve = await nativeUser('eve');
    await mutual(alice, bob);
    await bob.x.send(xml('presence', {}, xml('show', {}, 'chat')));
    await eve.x.send(xml('presence', { to: alice.jid, type: 'subscribe' }));
    await alice.events.next(presenceFrom(eve.jid, (e) => e.data.type === 'subscribe'));
    await alice.api('/presence?show=away&status=brb', { method: 'POST' });
    await alice.api('/logoff', { method: 'POST' });

    const again = (
      await call<Login>(`${gw.url}/restapi/v1/chat/${alice.username}/login`, {
        json: { password: alice.password },
      })
    ).body;
    const api = <T>(path: string) =>
      call<T>(`${gw.url}/restapi/v1/chat/${again.streamId}${path}`, { auth: bearer(again.token) });
    let contacts: { from: string; show: string }[] = [];
    for (let i = 0; i < 50 && !contacts.some((c) => c.show === 'chat'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      contacts = (await api<{ contacts: typeof contacts }>('/presence')).body.contacts;
    }
    assert.deepEqual(
      contacts.map((c) => [c.from, c.show]),
      [[`${bob.jid}/peer`, 'chat']],
    );
    // The server re-sends the pending request at login; it is still one request and one stored event.
    const replay = new SseClient(withToken(again.events, again.token, '0'));
    streams.push(replay);
    await replay.next(
      (e) => e.name === 'chatapi.session' && e.data.streamId === again.streamId && e.id !== '',
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(replay.events.filter(presenceFrom(eve.jid, (e) => e.data.type === 'subscribe')).length, 1);
    assert.deepEqual(
      (await api<{ requests: { jid: string }[] }>('/subscriptions')).body.requests.map((r) => r.jid),
      [eve.jid],
    );
    assert.deepEqual(
      (await api<{ own: unknown }>('/presence')).body.own,
      { show: 'available', status: null, priority: 0 },
      'a new session starts available',
    );
  });

  it('lets the user deny a subscription request, and lists pending ones', async () => {
    const alice = await parleyUser('deny');
    const mallory = await nativeUser('mallory');
    await mallory.x.send(
      xml(
        'presence',
        { to: alice.jid, type: 'subscribe' },
        xml('nick', { xmlns: 'http://jabber.org/protocol/nick' }, 'Mal'),
      ),
    );
    const request = await alice.events.next(presenceFrom(mallory.jid, (e) => e.data.type === 'subscribe'));
    assert.equal(request.data.nick, 'Mal');
    const pending = await alice.api<{ requests: { jid: string; nick: string }[] }>('/subscriptions');
    assert.deepEqual(
      pending.body.requests.map((r) => [r.jid, r.nick]),
      [[mallory.jid, 'Mal']],
    );

    const denied = await alice.api('/contacts/' + mallory.jid + '/subscription', { method: 'DELETE' });
    assert.equal(denied.status, 204);
    await mallory.x.next(stanzaFrom('presence', alice.jid, 'unsubscribed'));
    assert.deepEqual((await alice.api<{ requests: unknown[] }>('/subscriptions')).body.requests, []);
  });

  it("adds, updates and removes contacts visibly to the user's native client and the contact", async () => {
    const alice = await parleyUser('roster');
    const own = await XmppPeer.connect(alice.username, alice.password, 'phone');
    peers.push(own);
    await interested(own);
    const bob = await nativeUser('bob');
    const pushed = (jid: string, check: (item: Element) => boolean) =>
      own.next((s) => {
        const item =
          s.name === 'iq' && s.attrs.type === 'set'
            ? s.getChild('query', 'jabber:iq:roster')?.getChild('item')
            : undefined;
        return !!item && item.attrs.jid === jid && check(item);
      });

    await alice.api('/contacts', { json: { jid: bob.username, nickname: 'Bobby' } });
    await pushed(bob.jid, (i) => i.attrs.name === 'Bobby');
    await bob.x.next(stanzaFrom('presence', alice.jid, 'subscribe'));

    const updated = await alice.api<Contact>(`/contacts/${bob.jid}`, {
      method: 'PUT',
      json: { groups: ['Favorites'] },
    });
    assert.deepEqual([updated.body.nickname, updated.body.groups], ['Bobby', ['Favorites']]);
    await pushed(bob.jid, (i) => i.getChildText('group') === 'Favorites');
    const favorites = await alice.api<{ contacts: Contact[] }>('/contacts?group=Favorites');
    assert.deepEqual(
      favorites.body.contacts.map((c) => c.jid),
      [bob.jid],
    );
    assert.deepEqual((await alice.api<{ contacts: Contact[] }>('/contacts?group=Work')).body.contacts, []);
    const notice = await alice.events.next(
      (e) =>
        e.name === 'chatapi.presence' &&
        e.data.type === 'roster' &&
        (e.data.item as Contact).groups[0] === 'Favorites',
    );
    expectEventMatchesSpec(notice.name, notice.data, notice.id);

    const removed = await alice.api(`/contacts/${bob.jid}`, { method: 'DELETE' });
    assert.equal(removed.status, 204);
    await pushed(bob.jid, (i) => i.attrs.subscription === 'remove');
    assert.deepEqual((await alice.api<{ contacts: Contact[] }>('/contacts')).body.contacts, []);
    assert.equal((await alice.api(`/contacts/${bob.jid}`, { method: 'DELETE' })).status, 404);
  });

  it('blocks a native user (their stanzas stop arriving), lists and unblocks', async () => {
    const alice = await parleyUser('block', true);
    const dave = await nativeUser('dave');
    const to = `${alice.jid}/${alice.resource}`;
    const rawFrom = (jid: string, body: string) => (e: ReceivedEvent) =>
      e.name === 'chatapi.xmpp' &&
      Buffer.from(String(e.data.xmpp), 'base64').toString().includes(body) &&
      Buffer.from(String(e.data.xmpp), 'base64').toString().includes(jid);

    assert.equal((await alice.api(`/blocked/${dave.jid}`, { method: 'PUT' })).status, 204);
    const list = await alice.api<{ blocked: string[] }>('/blocked');
    assert.deepEqual(list.body.blocked, [dave.jid]);
    await dave.x.send(xml('message', { to, type: 'chat', id: 'b1' }, xml('body', {}, 'blocked-one')));
    await dave.x.send(xml('message', { to, type: 'chat', id: 'b2' }, xml('body', {}, 'blocked-two')));
    // A round trip through Alice's own session after Dave's messages: had they been delivered, they came first.
    const pong = await alice.api('/xmpp', {
      body: '<iq type="get"><ping xmlns="urn:xmpp:ping"/></iq>',
      headers: { 'Content-Type': 'application/xml' },
    });
    assert.equal(pong.status, 200);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(
      !alice.events.events.some(rawFrom(dave.jid, 'blocked-')),
      'nothing from a blocked JID reaches the session',
    );

    assert.equal((await alice.api(`/blocked/${dave.jid}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual((await alice.api<{ blocked: string[] }>('/blocked')).body.blocked, []);
    assert.equal((await alice.api(`/blocked/${dave.jid}`, { method: 'DELETE' })).status, 404);
    await dave.x.send(xml('message', { to, type: 'chat', id: 'u1' }, xml('body', {}, 'unblocked-hello')));
    const arrived = await alice.events.next(rawFrom(dave.jid, 'unblocked-hello'));
    expectEventMatchesSpec(arrived.name, arrived.data);
  });

  it('sends raw stanzas as the session only and returns iq replies', async () => {
    const alice = await parleyUser('raw');
    const bob = await nativeUser('bob');
    const xmlBody = (body: string, type = 'application/xml') => ({ body, headers: { 'Content-Type': type } });

    const sent = await alice.api(
      '/xmpp',
      xmlBody(
        `<message to="${bob.jid}/peer" type="chat"><body>raw &amp; real</body></message>`,
        'text/plain',
      ),
    );
    assert.equal(sent.status, 204);
    const got = await bob.x.next(stanzaFrom('message', alice.jid, 'chat'));
    assert.equal(got.getChildText('body'), 'raw & real');
    assert.equal(
      got.attrs.from,
      `${alice.jid}/${alice.resource}`,
      "the server stamped the session's own JID",
    );

    const own = await alice.api(
      '/xmpp',
      xmlBody(`<presence from="${alice.jid}/${alice.resource}"><status>raw</status></presence>`),
    );
    assert.equal(own.status, 204);

    const reply = await alice.api(
      '/xmpp',
      xmlBody('<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>'),
    );
    assert.match(reply.contentType, /^application\/xml/);
    assert.match(reply.text, /^<iq [^>]*type="result"/);
    const json = await alice.api<{ type: string; xml: string }>('/xmpp', {
      ...xmlBody('<iq type="get" to="localhost"><ping xmlns="urn:xmpp:ping"/></iq>'),
      headers: { 'Content-Type': 'application/xml', Accept: 'application/json' },
    });
    assert.equal(json.body.type, 'result');

    const bad: [string, number, string][] = [
      [`<message from="${bob.jid}" to="${bob.jid}"><body>spoof</body></message>`, 403, 'SPOOFED_FROM'],
      ['<message to="x@localhost"><body>unclosed</message>', 400, 'INVALID_STANZA'],
      ['<message/><message/>', 400, 'INVALID_STANZA'],
      ['<stream:features xmlns:stream="http://etherx.jabber.org/streams"/>', 400, 'INVALID_STANZA'],
      [`<message to="${bob.jid}"><body>${'x'.repeat(300 * 1024)}</body></message>`, 413, 'BODY_TOO_LARGE'],
    ];
    for (const [body, status, code] of bad) {
      const r = await alice.api<{ code: string }>('/xmpp', xmlBody(body));
      assert.deepEqual([r.status, r.body.code], [status, code], body.slice(0, 60));
    }
    assert.ok(!bob.x.stanzas.some((s) => s.getChildText('body') === 'spoof'));
  });

  it('keeps profile properties on the server, readable by other users, and searches users', async () => {
    const alice = await parleyUser('prof');
    const bob = await parleyUser('prof');
    const set = await alice.api('/users/title', { text: 'Head of support' });
    assert.equal(set.status, 204);
    await alice.api('/users/city', { json: { value: 'Zürich' } });
    const seen = await bob.api<{ jid: string; properties: Record<string, string> }>(
      `/users/${alice.jid}/profile`,
    );
    assert.deepEqual(seen.body, { jid: alice.jid, properties: { city: 'Zürich', title: 'Head of support' } });
    assert.equal((await alice.api('/users/title', { method: 'DELETE' })).status, 204);
    assert.equal((await alice.api('/users/title', { method: 'DELETE' })).status, 404);
    assert.deepEqual((await bob.api(`/users/${alice.username}/profile`)).body, {
      jid: alice.jid,
      properties: { city: 'Zürich' },
    });
    assert.deepEqual((await bob.api(`/users/${bob.jid}/profile`)).body, { jid: bob.jid, properties: {} });

    const found = await call<{ source: string; users: { username: string }[] }>(
      `${gw.url}/restapi/v1/chat/users?search=prof-`,
      { auth: gw.secret },
    );
    assert.equal(found.body.source, 'parley', 'Prosody offers no XEP-0055 directory');
    assert.deepEqual(found.body.users.map((u) => u.username).sort(), [alice.username, bob.username].sort());
    const asUser = await call<{ users: unknown[] }>(
      `${gw.url}/restapi/v1/chat/users?search=${alice.username}`,
      { auth: basic(bob.username, bob.password) },
    );
    assert.equal(asUser.body.users.length, 1);
    assert.equal((await call(`${gw.url}/restapi/v1/chat/users`)).status, 401);
  });

  it('answers bad input with 400 and unknown contacts with 404', async () => {
    const alice = await parleyUser('bad');
    const cases: [string, Parameters<typeof call>[1], number, string][] = [
      ['/presence?show=sleeping', { method: 'POST' }, 400, 'BAD_REQUEST'],
      ['/presence?priority=500', { method: 'POST' }, 400, 'BAD_REQUEST'],
      ['/contacts', { json: { jid: 'not a jid@x' } }, 400, 'INVALID_JID'],
      ['/contacts', { json: { jid: 'bob@localhost', colour: 'red' } }, 400, 'VALIDATION_FAILED'],
      ['/contacts/' + encodeURIComponent('a b@localhost'), { method: 'PUT', json: {} }, 400, 'INVALID_JID'],
      ['/contacts/nobody@localhost', { method: 'PUT', json: { nickname: 'x' } }, 404, 'NOT_FOUND'],
      ['/contacts/nobody@localhost', { method: 'DELETE' }, 404, 'NOT_FOUND'],
      ['/blocked/' + encodeURIComponent('@@'), { method: 'PUT' }, 400, 'INVALID_JID'],
      ['/users/bad%20name', { text: 'v' }, 400, 'BAD_REQUEST'],
    ];
    for (const [path, init, status, code] of cases) {
      const r = await alice.api<{ code: string }>(path, init);
      assert.deepEqual([r.status, r.body.code], [status, code], path);
    }
  });
});
