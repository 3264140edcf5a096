import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import { gatewayFixture } from '../helpers/fixture.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Joined = { room: string; nick: string; status: string };
type Page = { messages: { body: string; nick: string }[] };

const NS_COMMANDS = 'http://jabber.org/protocol/commands';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Rooms survive what the XMPP side does to sessions: a reconnect that loses the session (the gap is
 * filled from the room archive) and a Prosody restart (the occupants come back without client action,
 * and nothing acknowledged before is missing from history).
 */
describe('rooms after XMPP reconnects and a Prosody restart', function () {
  this.timeout(90_000);
  // A test stops Prosody: it must be back before the gateway stops.
  const fx = gatewayFixture({
    perTest: true,
    beforeStop: async () => {
      if (!rig.xmpp.isRunning()) await rig.xmpp.start();
    },
  });
  const { streams, peers } = fx;

  async function parleyUser(prefix: string) {
    const u = await registerUser(prefix);
    const l = (
      await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
        json: { password: u.password },
      })
    ).body;
    const events = new SseClient(withToken(l.events, l.token));
    streams.push(events);
    await events.next((e) => e.data.snapshot === true);
    const api = <T = Record<string, unknown>>(path: string, init: Parameters<typeof call>[1] = {}) =>
      call<T>(`${fx.gw.url}/restapi/v1/chat/${l.streamId}${path}`, { auth: bearer(l.token), ...init });
    return { ...u, ...l, api, events };
  }
  type User = Awaited<ReturnType<typeof parleyUser>>;

  const said = (room: string, body: string) => (e: ReceivedEvent) =>
    e.name === 'chatapi.muc' && e.data.type === 'groupchat' && e.data.room === room && e.data.body === body;
  const bodies = (s: SseClient, room: string) =>
    s.events
      .filter((e) => e.name === 'chatapi.muc' && e.data.type === 'groupchat' && e.data.room === room)
      .map((e) => e.data.body);
  const post = async (u: User, room: string, body: string) => {
    const r = await u.api(`/rooms/${room}`, { text: body });
    assert.equal(r.status, 201, r.text);
  };

  /** XEP-0133 end-user-session as the server admin: the server closes every session of that user. */
  async function endSession(jid: string): Promise<void> {
    const [local] = rig.xmpp.adminJid.split('@') as [string];
    const admin = await XmppPeer.connect(local, rig.xmpp.adminPassword, 'test-admin');
    try {
      const node = 'http://jabber.org/protocol/admin#end-user-session';
      const first = await admin.x.iqCaller.request(
        xml(
          'iq',
          { type: 'set', to: rig.xmpp.domain },
          xml('command', { xmlns: NS_COMMANDS, node, action: 'execute' }),
        ),
      );
      const command = first.getChild('command', NS_COMMANDS)!;
      const sessionid = String(command.attrs.sessionid);
      // Filled as the server's form names it: XEP-0133's `accountjids` (Prosody) or `accountjid` (ejabberd).
      const fieldVar = String(
        command
          .getChild('x', 'jabber:x:data')
          ?.getChildren('field')
          .find((f: Element) => String(f.attrs.var).startsWith('accountjid'))?.attrs.var ?? 'accountjids',
      );
      await admin.x.iqCaller.request(
        xml(
          'iq',
          { type: 'set', to: rig.xmpp.domain },
          xml(
            'command',
            { xmlns: NS_COMMANDS, node, sessionid, action: 'complete' },
            xml(
              'x',
              { xmlns: 'jabber:x:data', type: 'submit' },
              xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/admin')),
              xml('field', { var: fieldVar }, xml('value', {}, jid)),
            ),
          ),
        ),
      );
    } finally {
      await admin.stop();
    }
  }

  /** Polls the user's rooms until every one is joined again. */
  async function backInRooms(u: User, count: number, timeoutMs = 30_000): Promise<Joined[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await u.api<{ rooms: Joined[] }>('/rooms');
      if (
        r.status === 200 &&
        r.body.rooms.length === count &&
        r.body.rooms.every((x) => x.status === 'joined')
      )
        return r.body.rooms;
      if (Date.now() > until) throw new Error(`${u.username} not back in the room: ${r.text}`);
      await sleep(200);
    }
  }

  it('fills the gap from the room archive after a reconnect that lost the XMPP session', async () => {
    const [alice, bob] = [await parleyUser('alice'), await parleyUser('bob')];
    const room = `gap-${randomBytes(4).toString('hex')}`;
    // No join history at all: whatever alice gets back after the reconnect comes from the archive.
    const roomJid = (await alice.api<Joined>(`/rooms/${room}?history=0`, { method: 'PUT' })).body.room;
    await bob.api(`/rooms/${room}`, { method: 'PUT' });
    await post(bob, room, 'g1');
    await alice.events.next(said(roomJid, 'g1'));

    // The server ends alice's XMPP session (no XEP-0198 resumption possible); Parley reconnects on its own.
    await endSession(alice.jid);
    await post(bob, room, 'g2'); // alice is out of the room now: these reach her only through the archive
    await post(bob, room, 'g3');

    await alice.events.next((e) => e.name === 'chatapi.session' && e.data.type === 'reconnecting');
    await backInRooms(alice, 1);
    await alice.events.next(said(roomJid, 'g3'), 15_000);
    await post(bob, room, 'g4');
    await alice.events.next(said(roomJid, 'g4'));
    assert.deepEqual(bodies(alice.events, roomJid), ['g1', 'g2', 'g3', 'g4']);
    const archived = alice.events.events.filter((e) => e.data.body === 'g2' || e.data.body === 'g3');
    assert.ok(
      archived.every((e) => e.data.delayed === true),
      'g2 and g3 came from the archive',
    );
  });

  it('brings the occupants back after a Prosody restart, with nothing acknowledged missing from history', async () => {
    const [alice, bob] = [await parleyUser('alice'), await parleyUser('bob')];
    const room = `restart-${randomBytes(4).toString('hex')}`;
    // The rig's Prosody keeps only persistent rooms across a restart (and no archive at all).
    const created = await alice.api<Joined>(`/rooms/${room}?nick=Alice`, {
      method: 'PUT',
      json: { persistent: true },
    });
    assert.equal(created.status, 201, created.text);
    const roomJid = created.body.room;
    await bob.api(`/rooms/${room}?nick=Bob`, { method: 'PUT' });
    const daveUser = await registerUser('dave');
    const dave = await XmppPeer.connect(daveUser.username, daveUser.password);
    peers.push(dave);
    await dave.send(
      xml('presence', { to: `${roomJid}/Dave` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
    );
    await post(alice, room, 'a1');
    await post(bob, room, 'b1');
    await dave.send(xml('message', { to: roomJid, type: 'groupchat' }, xml('body', {}, 'd1')));
    await Promise.all([alice.events.next(said(roomJid, 'd1')), bob.events.next(said(roomJid, 'd1'))]);

    const t0 = performance.now();
    await rig.xmpp.stop();
    await Promise.all([alice, bob].map((u) => u.events.next((e) => e.data.type === 'reconnecting')));
    const down = await bob.api(`/rooms/${room}`, { text: 'while down' });
    assert.equal(down.status, 503, 'nothing is acknowledged while the server is down');
    await rig.xmpp.start();
    await Promise.all([backInRooms(alice, 1), backInRooms(bob, 1)]);
    const back = Math.round(performance.now() - t0);

    let occupants: { nick: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await call<{ occupants: { nick: string }[] }>(
        `${fx.gw.url}/restapi/v1/chat/rooms/${room}/occupants`,
        { auth: fx.gw.secret },
      );
      if (r.status === 200) {
        occupants = r.body.occupants;
        break;
      }
      await sleep(200); // the admin connection reconnects on its own schedule
    }
    assert.deepEqual(
      occupants.map((o) => o.nick),
      ['Alice', 'Bob'],
      'both Parley occupants are back without client action',
    );
    await post(bob, room, 'b2');
    await alice.events.next(said(roomJid, 'b2'));

    for (const u of [alice, bob]) {
      const h = await call<Page>(`${fx.gw.url}/restapi/v1/chat/rooms/${room}/chathistory`, {
        auth: bearer(u.token),
      });
      assert.deepEqual(
        h.body.messages.map((m) => m.body),
        ['a1', 'b1', 'd1', 'b2'],
        `${u.username}'s history`,
      );
    }
    assert.deepEqual(
      bodies(alice.events, roomJid),
      ['a1', 'b1', 'd1', 'b2'],
      'each message once on the stream too',
    );
    console.log(`      (${rig.xmpp.kind} stop → both occupants back in the room: ${back} ms)`);
  });
});
