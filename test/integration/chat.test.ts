import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { gatewayFixture } from '../helpers/fixture.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = {
  streamId: string;
  token: string;
  events: string;
  jid: string;
  resource: string;
  lastEventId: string;
};
type Sent = { id: string; stanzaId: string; to: string; timestamp: string };
type History = {
  messages: { id: string; body: string; from: string; direction: string; data: unknown; timestamp: string }[];
  page: { hasMore: boolean; before: string | null };
};

describe('1:1 chat against real Prosody + PostgreSQL', function () {
  this.timeout(30_000);
  const fx = gatewayFixture();
  const { streams, peers } = fx;

  const login = async (u: TestUser) => {
    const r = await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return r.body;
  };
  const open = (l: Login, lastEventId?: string) => {
    const s = new SseClient(withToken(l.events, l.token, lastEventId));
    streams.push(s);
    return s;
  };
  const send = (l: Login, to: string, init: { json?: unknown; text?: string }) =>
    call<Sent>(`${fx.gw.url}/restapi/v1/chat/${l.streamId}/messages/${encodeURIComponent(to)}`, {
      method: 'POST',
      auth: bearer(l.token),
      ...init,
    });

  it('Alice ↔ Bob: both tabs receive, receipts go delivered then displayed, unread counts follow', async () => {
    const [a, b] = [await registerUser('alice'), await registerUser('bob')];
    const [la, lb] = [await login(a), await login(b)];
    const aliceTab = open(la);
    const [bobTab1, bobTab2] = [open(lb), open(lb)];
    await Promise.all([aliceTab.opened, bobTab1.opened, bobTab2.opened]);

    const sent = await send(la, b.username, { json: { body: 'hello bob', data: { kind: 'greeting' } } });
    assert.equal(sent.status, 201, sent.text);
    assert.match(sent.body.id, /^\d+$/);
    const own = await aliceTab.next((e) => e.name === 'chatapi.chat' && e.id === sent.body.id);
    assert.equal(own.data.direction, 'out');

    const [m1, m2] = await Promise.all(
      [bobTab1, bobTab2].map((t) => t.next((e) => e.name === 'chatapi.chat' && e.data.body === 'hello bob')),
    );
    assert.equal(m1!.id, m2!.id);
    assert.equal(m1!.data.type, 'chat');
    assert.equal(String(m1!.data.from).split('/')[0], a.jid);
    assert.deepEqual(
      m1!.data.data,
      { body: 'hello bob', data: { kind: 'greeting' } },
      'ofchat: the whole JSON travels as data',
    );
    assert.equal(m1!.data.stanzaId, sent.body.stanzaId);

    const delivered = await aliceTab.next(
      (e) => e.name === 'chatapi.receipt' && e.data.status === 'delivered',
    );
    assert.equal(delivered.data.messageId, sent.body.id);

    await send(la, b.username, { text: 'second' });
    await bobTab1.next((e) => e.data.body === 'second');
    const unread = await call<{ total: number; contacts: { jid: string; count: number }[] }>(
      `${fx.gw.url}/restapi/v1/chat/${lb.streamId}/unread`,
      { auth: bearer(lb.token) },
    );
    assert.deepEqual(unread.body, { total: 2, contacts: [{ jid: a.jid, count: 2 }] });

    const seen = await call<{ marked: number }>(
      `${fx.gw.url}/restapi/v1/chat/${lb.streamId}/messages/${a.username}/${m1!.id}/displayed`,
      { method: 'POST', auth: bearer(lb.token) },
    );
    assert.equal(seen.status, 200, seen.text);
    assert.equal(seen.body.marked, 1);
    const displayed = await aliceTab.next(
      (e) => e.name === 'chatapi.receipt' && e.data.status === 'displayed',
    );
    assert.equal(displayed.data.messageId, sent.body.id);
    const after = await call<{ total: number }>(`${fx.gw.url}/restapi/v1/chat/${lb.streamId}/unread`, {
      auth: bearer(lb.token),
    });
    assert.equal(after.body.total, 1);
  });

  it('typing states reach the other side as ephemeral chatapi.chat events', async () => {
    const [a, b] = [await registerUser('typer'), await registerUser('watcher')];
    const [la, lb] = [await login(a), await login(b)];
    const bobTab = open(lb);
    await bobTab.opened;
    const r = await call(`${fx.gw.url}/restapi/v1/chat/${la.streamId}/chatstate/composing/${b.username}`, {
      method: 'POST',
      auth: bearer(la.token),
    });
    assert.equal(r.status, 204);
    const e = await bobTab.next((ev) => ev.data.state === 'composing');
    assert.equal(e.id, '', 'no id: chat states are not replayed');
    const bad = await call(`${fx.gw.url}/restapi/v1/chat/${la.streamId}/chatstate/dancing/${b.username}`, {
      method: 'POST',
      auth: bearer(la.token),
    });
    assert.equal(bad.status, 400);
  });

  it('round-trips < & " \', newlines, emoji and right-to-left text byte-exact', async () => {
    const [a, b] = [await registerUser('bytes'), await registerUser('exact')];
    const [la, lb] = [await login(a), await login(b)];
    const bobTab = open(lb);
    await bobTab.opened;
    const text = 'a < b && c > "d" \'e\'\nline two\r\n😀👍🏽 مرحبا بالعالم ‏שלום';
    assert.equal((await send(la, b.jid, { json: { body: text } })).status, 201);
    const got = await bobTab.next((e) => e.name === 'chatapi.chat' && e.data.direction === 'in');
    assert.equal(
      got.data.body,
      text.replace(/\r\n/g, '\n'),
      'XML normalises CRLF to LF; everything else is exact',
    );
    const hist = await call<History>(`${fx.gw.url}/restapi/v1/chat/${b.username}/messages?to=${a.username}`, {
      auth: bearer(lb.token),
    });
    assert.equal(hist.body.messages[0]!.body, got.data.body);
  });

  it('a native XMPP client and a Parley user exchange messages, receipts and chat states', async () => {
    const [a, n] = [await registerUser('parley'), await registerUser('native')];
    const la = await login(a);
    const peer = await XmppPeer.connect(n.username, n.password);
    peers.push(peer);
    const tab = open(la);
    await tab.opened;

    const sent = await send(la, n.jid, { text: 'to native' });
    const got = await peer.next((s) => s.is('message') && s.getChildText('body') === 'to native');
    assert.ok(got.getChild('request', 'urn:xmpp:receipts'), 'Parley asks for receipts');
    await peer.send(
      xml(
        'message',
        { to: String(got.attrs.from), id: 'r1' },
        xml('received', { xmlns: 'urn:xmpp:receipts', id: String(got.attrs.id) }),
      ),
    );
    const receipt = await tab.next((e) => e.name === 'chatapi.receipt');
    assert.equal(receipt.data.messageId, sent.body.id);

    await peer.send(
      xml(
        'message',
        { to: a.jid, type: 'chat', id: 'native-1' },
        xml('body', {}, 'from native'),
        xml('request', { xmlns: 'urn:xmpp:receipts' }),
      ),
    );
    const inbound = await tab.next((e) => e.data.body === 'from native');
    assert.equal(inbound.data.data, null);
    const ack = await peer.next((s) => s.getChild('received', 'urn:xmpp:receipts')?.attrs.id === 'native-1');
    assert.ok(ack);

    await peer.send(
      xml(
        'message',
        { to: a.jid, type: 'chat' },
        xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }),
      ),
    );
    await tab.next((e) => e.data.state === 'composing');
    await call(`${fx.gw.url}/restapi/v1/chat/${la.streamId}/chatstate/paused/${encodeURIComponent(n.jid)}`, {
      method: 'POST',
      auth: bearer(la.token),
    });
    await peer.next((s) => !!s.getChild('paused', 'http://jabber.org/protocol/chatstates'));
  });

  it('catches up messages sent while the user had no session, once each', async () => {
    const [a, b] = [await registerUser('sender'), await registerUser('away')];
    const la = await login(a);
    const lb0 = await login(b);
    await call(`${fx.gw.url}/restapi/v1/chat/${lb0.streamId}/logoff`, {
      method: 'POST',
      auth: bearer(lb0.token),
    });
    for (const body of ['one', 'two', 'three'])
      assert.equal((await send(la, b.username, { text: body })).status, 201);

    const lb = await login(b);
    const tab = open(lb); // the login's events URL replays from just before the login
    for (const body of ['one', 'two', 'three']) await tab.next((e) => e.data.body === body);
    await new Promise((r) => setTimeout(r, 500));
    const bodies = tab.events.filter((e) => e.name === 'chatapi.chat').map((e) => e.data.body);
    assert.deepEqual(bodies, ['one', 'two', 'three']);
    const hist = await call<History>(`${fx.gw.url}/restapi/v1/chat/${b.username}/messages?to=${a.jid}`, {
      auth: fx.gw.secret,
    });
    assert.deepEqual(
      hist.body.messages.map((m) => m.body),
      ['one', 'two', 'three'],
    );
  });

  it('replays missed messages after a dropped stream, and searches history by keyword, date and page', async () => {
    const [a, b] = [await registerUser('hist'), await registerUser('reader')];
    const [la, lb] = [await login(a), await login(b)];
    const tab = open(lb);
    await send(la, b.username, { text: 'before the drop' });
    const first = await tab.next((e) => e.data.body === 'before the drop');
    tab.close();
    for (const body of ['missed apple', 'missed banana', 'missed cherry'])
      await send(la, b.username, { text: body });
    const again = open(lb, first.id);
    for (const body of ['missed apple', 'missed banana', 'missed cherry'])
      await again.next((e) => e.data.body === body);
    assert.equal(again.events.filter((e) => e.name === 'chatapi.chat').length, 3);

    const h = (q: string) =>
      call<History>(`${fx.gw.url}/restapi/v1/chat/${b.username}/messages?${q}`, { auth: bearer(lb.token) });
    assert.deepEqual(
      (await h('keywords=banana')).body.messages.map((m) => m.body),
      ['missed banana'],
    );
    const today = new Date();
    const mmddyy = `${today.getUTCMonth() + 1}/${today.getUTCDate()}/${String(today.getUTCFullYear()).slice(2)}`;
    assert.equal((await h(`to=${a.username}&start=${mmddyy}&end=${mmddyy}`)).body.messages.length, 4);
    assert.equal((await h(`to=${a.username}&end=2001-01-01T00:00:00Z`)).body.messages.length, 0);
    const p1 = await h(`to=${a.username}&limit=2`);
    assert.deepEqual(
      p1.body.messages.map((m) => m.body),
      ['missed banana', 'missed cherry'],
    );
    assert.equal(p1.body.page.hasMore, true);
    const p2 = await h(`to=${a.username}&limit=2&before=${p1.body.page.before}`);
    assert.deepEqual(
      p2.body.messages.map((m) => m.body),
      ['before the drop', 'missed apple'],
    );
    assert.equal((await h('start=yesterday')).status, 400);
    const other = await call(`${fx.gw.url}/restapi/v1/chat/${a.username}/messages`, {
      auth: bearer(lb.token),
    });
    assert.equal(other.status, 403, 'only the master secret or the user may read a history');
  });

  it('answers bad input precisely and stores nothing', async () => {
    const a = await registerUser('strict');
    const la = await login(a);
    const bad = await send(la, 'not a jid@@', { text: 'x' });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as unknown as { code: string }).code, 'INVALID_JID');
    const noBody = await send(la, 'bob', { json: { data: 1 } });
    assert.equal(noBody.status, 400);
    const big = await send(la, 'bob', { text: 'x'.repeat(70 * 1024) });
    assert.equal(big.status, 413);
    // XML cannot carry it and the stanza goes out before the row is written: refused before either
    const control = await send(la, 'bob', { json: { body: 'a\u0000b' } });
    assert.equal(control.status, 400);
    assert.equal((control.body as unknown as { code: string }).code, 'VALIDATION_FAILED');
    const hist = await call<History>(`${fx.gw.url}/restapi/v1/chat/${a.username}/messages`, {
      auth: bearer(la.token),
    });
    assert.equal(hist.body.messages.length, 0);
  });
});
