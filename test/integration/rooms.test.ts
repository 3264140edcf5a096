import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import { gatewayFixture } from '../helpers/fixture.js';
import { bearer, call, withToken, type Reply } from '../helpers/http.js';
import { expectEventMatchesSpec, expectResponseMatchesSpec } from '../helpers/openapi.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

type Login = { streamId: string; token: string; events: string; resource: string; jid: string };
type Problem = {
  code: string;
  status: number;
  detail: string;
  xmppCondition?: string;
  errors?: { path: string; message: string }[];
};
type Joined = {
  room: string;
  nick: string;
  status: string;
  role: string;
  affiliation: string;
  subject: string | null;
  created: boolean;
  occupants: { nick: string; role: string }[];
};
type Posted = {
  room: string;
  stanzaId: string;
  stored: boolean;
  id: string;
  archiveId: string;
  timestamp: string;
};

const MUC = 'http://jabber.org/protocol/muc';
const uniqueRoom = (prefix = 'room') => `${prefix}-${randomBytes(4).toString('hex')}`;

/**
 * Group rooms (XEP-0045) through Parley against the rig's real Prosody and PostgreSQL: Parley users and a
 * native XMPP client in the same rooms, events checked on real SSE streams and against openapi.yaml.
 */
describe('rooms (MUC) against real Prosody + PostgreSQL', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({ perTest: true });
  const { streams, peers } = fx;

  const spec = (method: string, template: string, r: Reply<unknown>) =>
    expectResponseMatchesSpec(method, template, r.status, r.contentType, r.text === '' ? '' : r.body);

  /** A Parley user, logged in, with an open event stream; `api` calls paths under its stream. */
  async function parleyUser(prefix: string) {
    const u = await registerUser(prefix);
    const l = (
      await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
        json: { password: u.password },
      })
    ).body;
    const events = new SseClient(withToken(l.events, l.token));
    streams.push(events);
    await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    const api = <T = Record<string, unknown>>(path: string, init: Parameters<typeof call>[1] = {}) =>
      call<T>(`${fx.gw.url}/restapi/v1/chat/${l.streamId}${path}`, { auth: bearer(l.token), ...init });
    return { ...u, ...l, api, events };
  }
  type User = Awaited<ReturnType<typeof parleyUser>>;

  async function nativeUser(prefix: string) {
    const u = await registerUser(prefix);
    const x = await XmppPeer.connect(u.username, u.password);
    peers.push(x);
    return { ...u, x };
  }

  /** The native client joins and waits for the room's subject (the end of the join). */
  async function nativeJoin(x: XmppPeer, roomJid: string, nick: string): Promise<void> {
    await x.send(xml('presence', { to: `${roomJid}/${nick}` }, xml('x', { xmlns: MUC })));
    await x.next(
      (s) => s.name === 'message' && String(s.attrs.from) === roomJid && s.getChild('subject') !== undefined,
    );
  }

  const join = (u: User, room: string, init: Parameters<typeof call>[1] = {}, q = '') =>
    u.api<Joined>(`/rooms/${room}${q}`, { method: 'PUT', ...init });
  const post = (u: User, room: string, body: string | object) =>
    u.api<Posted>(`/rooms/${room}`, typeof body === 'string' ? { text: body } : { json: body });
  const groupchats = (s: SseClient, room: string) =>
    s.events.filter((e) => e.name === 'chatapi.muc' && e.data.type === 'groupchat' && e.data.room === room);
  const said = (room: string, body: string) => (e: ReceivedEvent) =>
    e.name === 'chatapi.muc' && e.data.type === 'groupchat' && e.data.room === room && e.data.body === body;
  const nativeSaw = (roomJid: string, body: string) => (s: Element) =>
    s.name === 'message' && String(s.attrs.from).startsWith(`${roomJid}/`) && s.getChildText('body') === body;

  it('puts three Parley users and a native client in one room: every message once, in order, with nicks', async () => {
    const [alice, bob, carol] = [
      await parleyUser('alice'),
      await parleyUser('bob'),
      await parleyUser('carol'),
    ];
    const dave = await nativeUser('dave');
    const room = uniqueRoom('team');
    const created = await join(
      alice,
      room,
      { json: { persistent: true, public: true, name: 'Team room' } },
      '?nick=Alice',
    );
    assert.equal(created.status, 201, created.text);
    spec('PUT', '/restapi/v1/chat/{streamid}/rooms/{room}', created);
    assert.equal(created.body.created, true);
    assert.equal(created.body.affiliation, 'owner');
    const roomJid = created.body.room;
    assert.equal(roomJid, `${room}@conference.${rig.xmpp.domain}`);
    for (const [u, nick] of [
      [bob, 'Bob'],
      [carol, 'Carol'],
    ] as const) {
      const r = await join(u, room, {}, `?nick=${nick}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.created, false);
    }
    await nativeJoin(dave.x, roomJid, 'Dave');
    await alice.events.next(
      (e) =>
        e.name === 'chatapi.presence' &&
        e.data.room === roomJid &&
        e.data.nick === 'Dave' &&
        e.data.type === 'available',
    );

    const script: [User | 'dave', string][] = [
      [alice, 'one'],
      ['dave', 'two'],
      [bob, 'three'],
      [carol, 'four'],
      ['dave', 'five'],
      [alice, 'six'],
    ];
    for (const [who, body] of script) {
      if (who === 'dave') {
        await dave.x.send(
          xml('message', { to: roomJid, type: 'groupchat', id: `d-${body}` }, xml('body', {}, body)),
        );
        await dave.x.next(nativeSaw(roomJid, body));
      } else {
        const r = await post(who, room, who === bob ? { body, extra: 42 } : body);
        assert.equal(r.status, 201, r.text);
        spec('POST', '/restapi/v1/chat/{streamid}/rooms/{room}', r);
        assert.ok(r.body.archiveId, "acknowledged with the room's stanza-id");
      }
    }
    const nicks = {
      one: 'Alice',
      two: 'Dave',
      three: 'Bob',
      four: 'Carol',
      five: 'Dave',
      six: 'Alice',
    } as Record<string, string>;
    for (const u of [alice, bob, carol]) {
      await u.events.next(said(roomJid, 'six'));
      const seen = groupchats(u.events, roomJid);
      assert.deepEqual(
        seen.map((e) => e.data.body),
        ['one', 'two', 'three', 'four', 'five', 'six'],
        `${u.username} sees each once, in order`,
      );
      for (const e of seen) {
        assert.equal(e.data.nick, nicks[e.data.body as string]);
        assert.equal(e.data.from, `${roomJid}/${nicks[e.data.body as string]}`);
        assert.match(e.id, /^\d+$/);
        expectEventMatchesSpec(e.name, e.data, e.id);
      }
      assert.deepEqual(
        seen.find((e) => e.data.body === 'three')!.data.data,
        { body: 'three', extra: 42 },
        'JSON travels whole as data',
      );
    }
    // The native client sees the same room, in the same order.
    const daveSaw = dave.x.stanzas
      .filter((s) => s.name === 'message' && s.attrs.type === 'groupchat' && s.getChildText('body'))
      .map((s) => [String(s.attrs.from).split('/')[1], s.getChildText('body')]);
    assert.deepEqual(
      daveSaw,
      Object.entries(nicks).map(([b, n]) => [n, b]),
    );
    const stanzaIds = new Set(groupchats(alice.events, roomJid).map((e) => e.data.archiveId));
    assert.equal(stanzaIds.size, 6);
    assert.deepEqual(
      new Set(groupchats(bob.events, roomJid).map((e) => e.data.archiveId)),
      stanzaIds,
      'one room stanza-id per message for everyone',
    );
  });

  it('delivers mediated and direct invitations as durable invitationReceived events', async () => {
    const [alice, erin] = [await parleyUser('alice'), await parleyUser('erin')];
    const frank = await nativeUser('frank');
    const room = uniqueRoom('invite');
    const roomJid = (await join(alice, room, { json: { password: 's3cret' } })).body.room;
    const r = await alice.api(`/rooms/${room}/${erin.username}`, { text: 'come and see' });
    assert.equal(r.status, 204, r.text);
    spec('POST', '/restapi/v1/chat/{streamid}/rooms/{room}/{jid}', r);
    const inv = await erin.events.next(
      (e) => e.name === 'chatapi.muc' && e.data.type === 'invitationReceived',
    );
    assert.equal(inv.data.room, roomJid);
    assert.equal(inv.data.reason, 'come and see');
    assert.equal(inv.data.password, 's3cret', 'the room adds its password to mediated invitations');
    // Prosody names the inviter by occupant JID when the inviter is in a semi-anonymous room.
    assert.ok(
      [alice.jid, `${roomJid}/${alice.username}`].includes(
        String(inv.data.inviter).replace(/\/parley-\w+$/, ''),
      ),
      String(inv.data.inviter),
    );
    assert.equal(inv.data.url, `xmpp:${roomJid}?join`);
    assert.match(inv.id, /^\d+$/);
    expectEventMatchesSpec(inv.name, inv.data, inv.id);
    // The invitee can act on it: join with the password it carried.
    assert.equal((await join(erin, room, { json: { password: inv.data.password } })).status, 200);

    await alice.api(`/rooms/${room}/${frank.jid}`, { json: { reason: 'direct', direct: true } });
    const direct = await frank.x.next(
      (s) => s.name === 'message' && s.getChild('x', 'jabber:x:conference') !== undefined,
    );
    assert.equal(direct.getChild('x', 'jabber:x:conference')!.attrs.jid, roomJid);
    // A native client's direct invitation reaches a Parley user as the same event.
    await frank.x.send(
      xml(
        'message',
        { to: erin.jid },
        xml('x', {
          xmlns: 'jabber:x:conference',
          jid: `other@conference.${rig.xmpp.domain}`,
          reason: 'xep-0249',
        }),
      ),
    );
    const d = await erin.events.next((e) => e.data.type === 'invitationReceived' && e.data.direct === true);
    assert.equal(d.data.reason, 'xep-0249');
    assert.equal(d.data.inviter, frank.x.jid);
  });

  it('kicks and bans: the occupant is removed, told why, and a banned user cannot come back', async () => {
    const [alice, bob, carol] = [
      await parleyUser('alice'),
      await parleyUser('bob'),
      await parleyUser('carol'),
    ];
    const room = uniqueRoom('mod');
    const roomJid = (await join(alice, room, {}, '?nick=Alice')).body.room;
    await join(bob, room, {}, '?nick=Bob');
    await join(carol, room, {}, '?nick=Carol');

    const kick = await alice.api(`/rooms/${room}/occupants/Carol?reason=off-topic`, { method: 'DELETE' });
    assert.equal(kick.status, 204, kick.text);
    spec('DELETE', '/restapi/v1/chat/{streamid}/rooms/{room}/occupants/{nick}', kick);
    const kicked = await carol.events.next((e) => e.name === 'chatapi.muc' && e.data.type === 'left');
    assert.deepEqual(
      [kicked.data.cause, kicked.data.reason, kicked.data.room],
      ['kicked', 'off-topic', roomJid],
    );
    assert.deepEqual((await carol.api<{ rooms: unknown[] }>('/rooms')).body.rooms, []);
    await alice.events.next(
      (e) => e.name === 'chatapi.presence' && e.data.nick === 'Carol' && e.data.type === 'unavailable',
    );
    assert.equal((await post(carol, room, 'still here?')).status, 409, 'not in the room any more');

    const ban = await alice.api(`/rooms/${room}/affiliations/${bob.username}`, {
      method: 'PUT',
      json: { affiliation: 'outcast', reason: 'spam' },
    });
    assert.equal(ban.status, 204, ban.text);
    spec('PUT', '/restapi/v1/chat/{streamid}/rooms/{room}/affiliations/{jid}', ban);
    const banned = await bob.events.next((e) => e.name === 'chatapi.muc' && e.data.type === 'left');
    assert.equal(banned.data.cause, 'banned');
    const back = await join(bob, room);
    assert.equal(back.status, 403, back.text);
    assert.equal((back.body as unknown as Problem).xmppCondition, 'forbidden');
    spec('PUT', '/restapi/v1/chat/{streamid}/rooms/{room}', back);
    const parts = await call<{ participants: { jid: string; affiliation: string }[] }>(
      `${fx.gw.url}/restapi/v1/chat/rooms/${room}/participants`,
      { auth: fx.gw.secret },
    );
    assert.equal(parts.status, 200, parts.text);
    spec('GET', '/restapi/v1/chat/rooms/{room}/participants', parts);
    assert.deepEqual(parts.body.participants.map((p) => [p.jid, p.affiliation]).sort(), [
      [alice.jid, 'owner'],
      [bob.jid, 'outcast'],
    ]);

    // Roles: a visitor has no voice, and the room's refusal comes back as 403 with its condition.
    await join(carol, room, {}, '?nick=Carol');
    const mute = await alice.api(`/rooms/${room}/roles/Carol`, { method: 'PUT', json: { role: 'visitor' } });
    assert.equal(mute.status, 204, mute.text);
    const refused = await post(carol, room, 'may I?');
    assert.equal(refused.status, 403, refused.text);
    assert.equal((refused.body as unknown as Problem).xmppCondition, 'forbidden');
    const notOwner = await carol.api(`/rooms/${room}/affiliations/${alice.username}`, {
      method: 'PUT',
      json: { affiliation: 'none' },
    });
    assert.equal(notOwner.status, 403, notOwner.text);
  });

  it('replays every room message missed while the event stream was down, once', async () => {
    const [alice, bob] = [await parleyUser('alice'), await parleyUser('bob')];
    const dave = await nativeUser('dave');
    const room = uniqueRoom('replay');
    const roomJid = (await join(alice, room)).body.room;
    await join(bob, room);
    await nativeJoin(dave.x, roomJid, 'Dave');
    await post(bob, room, 'before');
    const before = await alice.events.next(said(roomJid, 'before'));
    alice.events.close();

    const missed = ['m1', 'm2', 'm3', 'm4', 'm5'];
    for (const [i, body] of missed.entries()) {
      if (i % 2) {
        await dave.x.send(xml('message', { to: roomJid, type: 'groupchat' }, xml('body', {}, body)));
        await bob.events.next(said(roomJid, body));
      } else {
        assert.equal((await post(bob, room, body)).status, 201);
      }
    }
    const resumed = new SseClient(`${fx.gw.url}/restapi/v1/chat/${alice.streamId}/events`, {
      headers: { Authorization: bearer(alice.token), 'Last-Event-ID': before.id },
    });
    streams.push(resumed);
    await resumed.next(said(roomJid, 'm5'));
    assert.deepEqual(
      groupchats(resumed, roomJid).map((e) => e.data.body),
      missed,
    );
    assert.ok(groupchats(resumed, roomJid).every((e) => BigInt(e.id) > BigInt(before.id)));
  });

  it('answers bad input as documented: 404 unknown room, 400 bad name, 409 nick taken, 403 password', async () => {
    const [alice, bob] = [await parleyUser('alice'), await parleyUser('bob')];
    const missing = uniqueRoom('missing');
    const info = await call<Problem>(`${fx.gw.url}/restapi/v1/chat/rooms/${missing}`, {
      auth: bearer(alice.token),
    });
    assert.equal(info.status, 404, info.text);
    spec('GET', '/restapi/v1/chat/rooms/{room}', info);
    const noCreate = await join(alice, missing, {}, '?create=false');
    assert.equal(noCreate.status, 404, noCreate.text);
    assert.equal(
      (await call(`${fx.gw.url}/restapi/v1/chat/rooms/${missing}`, { auth: fx.gw.secret })).status,
      404,
      'and nothing was created',
    );
    for (const bad of ['bad%20room', 'a%22b', 'x%3Ay', 'a%40b%40c']) {
      const r = await join(alice, bad);
      assert.equal(r.status, 400, `${bad}: ${r.text}`);
      assert.equal((r.body as unknown as Problem).code, 'INVALID_JID');
    }
    assert.equal((await join(alice, 'ok', {}, '?nick=%20padded')).status, 400);
    assert.equal((await join(alice, 'ok', { json: { persistent: 'yes' } })).status, 400);

    const room = uniqueRoom('rules');
    assert.equal((await join(alice, room, { json: { password: 'pw1' } }, '?nick=Same')).status, 201);
    const taken = await join(bob, room, { json: { password: 'pw1' } }, '?nick=Same');
    assert.equal(taken.status, 409, taken.text);
    assert.equal((taken.body as unknown as Problem).xmppCondition, 'conflict');
    const noPassword = await join(bob, room, {}, '?nick=Bob');
    assert.equal(noPassword.status, 403, noPassword.text);
    assert.equal((noPassword.body as unknown as Problem).xmppCondition, 'not-authorized');
    const wrong = await join(bob, room, { json: { password: 'nope' } }, '?nick=Bob');
    assert.equal(wrong.status, 403);
    // The password travels in the body only (issue 21 item 11): in the query string it is refused.
    const inQuery = await join(bob, room, {}, '?nick=Bob&password=pw1');
    assert.equal(inQuery.status, 400, inQuery.text);
    assert.equal((inQuery.body as unknown as Problem).errors?.[0]?.path, 'query.password');
    assert.equal((await join(bob, room, { json: { password: 'pw1' } }, '?nick=Bob')).status, 200);
    assert.deepEqual(
      (await bob.api<{ rooms: Joined[] }>('/rooms')).body.rooms.map((r) => r.nick),
      ['Bob'],
    );

    const membersOnly = uniqueRoom('closed');
    assert.equal((await join(alice, membersOnly, { json: { membersOnly: true } })).status, 201);
    const closed = await join(bob, membersOnly);
    assert.equal(closed.status, 403);
    assert.equal((closed.body as unknown as Problem).xmppCondition, 'registration-required');
    const noAuth = await call(`${fx.gw.url}/restapi/v1/chat/rooms`);
    assert.equal(noAuth.status, 401);
    spec('GET', '/restapi/v1/chat/rooms', noAuth);
  });

  it('stores the history on join once, across re-joins, and pages it from Postgres', async () => {
    const [alice, bob] = [await parleyUser('alice'), await parleyUser('bob')];
    const room = uniqueRoom('history');
    const roomJid = (await join(alice, room, { json: { subject: 'Plans' } })).body.room;
    for (let i = 1; i <= 7; i++) assert.equal((await post(alice, room, `h${i}`)).status, 201);
    const first = await join(bob, room);
    assert.equal(first.body.subject, 'Plans');
    const path = `${fx.gw.url}/restapi/v1/chat/rooms/${room}/chathistory`;
    type Page = { messages: { id: string; body: string; nick: string }[]; page: { hasMore: boolean } };
    const stored = await call<Page>(path, { auth: bearer(bob.token) });
    assert.deepEqual(
      stored.body.messages.map((m) => m.body),
      ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'],
      'the history was stored before the join answered',
    );
    await bob.events.next(said(roomJid, 'h7'));
    assert.deepEqual(
      groupchats(bob.events, roomJid).map((e) => e.data.body),
      ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'],
    );
    assert.ok(groupchats(bob.events, roomJid).every((e) => e.data.delayed === true));
    const again = await join(bob, room);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'joined', 'a join while joined answers the current state');
    assert.equal((await bob.api(`/rooms/${room}`, { method: 'DELETE' })).status, 204);
    await bob.events.next((e) => e.data.type === 'left' && e.data.cause === 'self');
    await post(alice, room, 'h8');
    await join(bob, room);
    await bob.events.next(said(roomJid, 'h8'));
    assert.deepEqual(
      groupchats(bob.events, roomJid).map((e) => e.data.body),
      ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8'],
      'history of the re-join added only what was new',
    );

    const page1 = await call<Page>(`${path}?limit=3`, { auth: bearer(bob.token) });
    assert.equal(page1.status, 200, page1.text);
    spec('GET', '/restapi/v1/chat/rooms/{room}/chathistory', page1);
    assert.deepEqual(
      page1.body.messages.map((m) => m.body),
      ['h6', 'h7', 'h8'],
    );
    assert.equal(page1.body.page.hasMore, true);
    const page2 = await call<Page>(`${path}?limit=3&before=${page1.body.messages[0]!.id}`, {
      auth: bearer(bob.token),
    });
    assert.deepEqual(
      page2.body.messages.map((m) => m.body),
      ['h3', 'h4', 'h5'],
    );
    const forward = await call<Page>(`${path}?after=${page2.body.messages[2]!.id}`, {
      auth: bearer(bob.token),
    });
    assert.deepEqual(
      forward.body.messages.map((m) => m.body),
      ['h6', 'h7', 'h8'],
    );
    assert.equal(forward.body.page.hasMore, false);
    // The master secret sees the room as all Parley users stored it, each message once.
    const all = await call<Page>(`${path}?limit=100`, { auth: fx.gw.secret });
    assert.deepEqual(
      all.body.messages.map((m) => m.body),
      ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8'],
    );
    assert.equal((await call(`${path}?username=${alice.username}`, { auth: bearer(bob.token) })).status, 403);
    assert.equal((await call(`${path}?before=x`, { auth: bearer(bob.token) })).status, 400);
  });

  it('sends private messages, changes the subject, lists rooms and occupants, leaves and destroys', async () => {
    const [alice, bob] = [await parleyUser('alice'), await parleyUser('bob')];
    const dave = await nativeUser('dave');
    const room = uniqueRoom('misc');
    const roomJid = (await join(alice, room, { json: { public: true, name: 'Misc' } }, '?nick=Alice')).body
      .room;
    await join(bob, room, {}, '?nick=Bob');
    await nativeJoin(dave.x, roomJid, 'Dave');

    const pm = await alice.api(`/rooms/${room}/occupants/Bob/messages`, {
      json: { body: 'psst', secret: true },
    });
    assert.equal(pm.status, 201, pm.text);
    spec('POST', '/restapi/v1/chat/{streamid}/rooms/{room}/occupants/{nick}/messages', pm);
    const got = await bob.events.next((e) => e.name === 'chatapi.muc' && e.data.type === 'chat');
    assert.deepEqual(
      [got.data.room, got.data.nick, got.data.body, got.data.direction],
      [roomJid, 'Alice', 'psst', 'in'],
    );
    assert.deepEqual(got.data.data, { body: 'psst', secret: true });
    await alice.events.next(
      (e) => e.name === 'chatapi.muc' && e.data.type === 'chat' && e.data.direction === 'out',
    );
    await alice.api(`/rooms/${room}/occupants/Dave/messages`, { text: 'hi dave' });
    await dave.x.next(
      (s) => s.name === 'message' && s.attrs.type === 'chat' && s.getChildText('body') === 'hi dave',
    );
    const nobody = await alice.api(`/rooms/${room}/occupants/Nobody/messages`, { text: 'hello?' });
    assert.equal(nobody.status, 404, nobody.text);

    const subject = await alice.api(`/rooms/${room}`, { json: { subject: 'New topic' } });
    assert.equal(subject.status, 204, subject.text);
    await bob.events.next(
      (e) => e.name === 'chatapi.muc' && e.data.type === 'subject' && e.data.subject === 'New topic',
    );
    const info = await call<{
      jid: string;
      subject: string;
      occupants: number;
      public: boolean;
      name: string;
    }>(`${fx.gw.url}/restapi/v1/chat/rooms/${room}`, { auth: bearer(bob.token) });
    assert.equal(info.status, 200, info.text);
    spec('GET', '/restapi/v1/chat/rooms/{room}', info);
    assert.deepEqual(
      [info.body.jid, info.body.subject, info.body.occupants, info.body.public, info.body.name],
      [roomJid, 'New topic', 3, true, 'Misc'],
    );

    const list = await call<{ rooms: { jid: string; name: string }[] }>(
      `${fx.gw.url}/restapi/v1/chat/rooms?search=${room}`,
      { auth: fx.gw.secret },
    );
    assert.equal(list.status, 200, list.text);
    spec('GET', '/restapi/v1/chat/rooms', list);
    assert.deepEqual(
      list.body.rooms.map((r) => [r.jid, r.name]),
      [[roomJid, 'Misc']],
    );
    const occupants = await call<{ occupants: { nick: string; role: string }[] }>(
      `${fx.gw.url}/restapi/v1/chat/rooms/${room}/occupants`,
      { auth: fx.gw.secret },
    );
    assert.equal(occupants.status, 200, occupants.text);
    spec('GET', '/restapi/v1/chat/rooms/{room}/occupants', occupants);
    assert.deepEqual(
      occupants.body.occupants.map((o) => [o.nick, o.role]),
      [
        ['Alice', 'moderator'],
        ['Bob', 'participant'],
        ['Dave', 'participant'],
      ],
    );
    const joined = await alice.api<{ rooms: Joined[] }>('/rooms');
    spec('GET', '/restapi/v1/chat/{streamid}/rooms', joined);
    assert.deepEqual(
      joined.body.rooms.map((r) => [r.room, r.status, r.subject]),
      [[roomJid, 'joined', 'New topic']],
    );

    const leave = await bob.api(`/rooms/${room}`, { method: 'DELETE' });
    assert.equal(leave.status, 204);
    spec('DELETE', '/restapi/v1/chat/{streamid}/rooms/{room}', leave);
    await alice.events.next(
      (e) => e.name === 'chatapi.presence' && e.data.nick === 'Bob' && e.data.type === 'unavailable',
    );
    const destroy = await alice.api(`/rooms/${room}?destroy=true&reason=done`, { method: 'DELETE' });
    assert.equal(destroy.status, 204, destroy.text);
    const gone = await alice.events.next((e) => e.name === 'chatapi.muc' && e.data.type === 'left');
    assert.deepEqual([gone.data.cause, gone.data.reason], ['destroyed', 'done']);
    await dave.x.next(
      (s) =>
        s.name === 'presence' &&
        s.attrs.type === 'unavailable' &&
        s.getChild('x', `${MUC}#user`)?.getChild('destroy') !== undefined,
    );
    assert.equal(
      (await call(`${fx.gw.url}/restapi/v1/chat/rooms/${room}`, { auth: fx.gw.secret })).status,
      404,
    );
  });
});
