import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import xml from '@xmpp/xml';
import { freePort } from '../../tools/servers/freePort.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { expectEventMatchesSpec } from '../helpers/openapi.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Joined = { room: string; nick: string; status: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A gateway restart (deploy, crash) does not end sessions: the same instance logs them in again, the same
 * stream ids and tokens keep working, rooms are entered again, and event streams resume with Last-Event-ID
 * — including what arrived for the user while no gateway was running.
 */
describe('sessions across a gateway restart', function () {
  this.timeout(120_000);
  const streams: SseClient[] = [];
  const peers: XmppPeer[] = [];
  const gateways: TestGateway[] = [];
  const stopped = new Set<TestGateway>();
  const stop = async (g: TestGateway) => {
    stopped.add(g);
    await g.parley.stop();
  };
  const dbUrls: string[] = [];
  afterEach(async () => {
    for (const s of streams)
      for (const e of s.events) expectEventMatchesSpec(e.name, e.data, e.id || undefined);
    for (const s of streams.splice(0)) s.close();
    await Promise.all(peers.splice(0).map((p) => p.stop()));
    for (const g of gateways.splice(0)) if (!stopped.has(g)) await g.stop();
    for (const db of dbUrls.splice(0)) await dropDatabase(db);
  });

  /** One instance as an operator runs it: fixed port, instance id, secret and database across restarts. */
  async function instance(extra: Record<string, string> = {}) {
    const dbUrl = await freshDatabase();
    dbUrls.push(dbUrl);
    const env = {
      PARLEY_PORT: String(await freePort()),
      PARLEY_INSTANCE_ID: `restore-${randomBytes(3).toString('hex')}`,
      PARLEY_SECRET: randomBytes(18).toString('base64url'),
      DATABASE_URL: dbUrl,
      ...extra,
    };
    const start = async () => {
      const g = await startGateway(env);
      gateways.push(g);
      return g;
    };
    return { start };
  }

  async function login(gw: TestGateway, prefix: string) {
    const u = await registerUser(prefix);
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.equal(r.status, 201, r.text);
    return { ...u, ...r.body };
  }
  type User = Awaited<ReturnType<typeof login>>;
  const api = <T = Record<string, unknown>>(
    gw: TestGateway,
    u: User,
    path: string,
    init: Parameters<typeof call>[1] = {},
  ) => call<T>(`${gw.url}/restapi/v1/chat/${u.streamId}${path}`, { auth: bearer(u.token), ...init });

  /** Polls until the restored session is online again (commands answer 503 until then). */
  async function online(gw: TestGateway, u: User): Promise<void> {
    for (let i = 0; ; i++) {
      const r = await api<{ state: string }>(gw, u, '');
      if (r.status === 200 && r.body.state === 'online') return;
      if (i > 150) throw new Error(`${u.username} not back online: ${r.status} ${r.text}`);
      await sleep(200);
    }
  }

  it('keeps stream ids, tokens and rooms, and replays what arrived while it was down', async () => {
    const gwEnv = await instance();
    let gw = await gwEnv.start();
    const [alice, bob] = [await login(gw, 'alice'), await login(gw, 'bob')];
    const room = `restart-${randomBytes(4).toString('hex')}`;
    const joined = await api<Joined>(gw, alice, `/rooms/${room}?nick=Alice`, { method: 'PUT' });
    assert.equal(joined.status, 201, joined.text);
    const roomJid = joined.body.room;
    // Carol, a native client, keeps the room alive and talks while no gateway runs.
    const carolUser = await registerUser('carol');
    const carol = await XmppPeer.connect(carolUser.username, carolUser.password);
    peers.push(carol);
    await carol.send(
      xml('presence', { to: `${roomJid}/Carol` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
    );
    await carol.next((s) => s.is('presence') && s.attrs.from === `${roomJid}/Carol`);

    // Bob is an expert on duty in a workgroup (the component runs on the gateway too).
    const wg = `wg-${randomBytes(3).toString('hex')}`;
    const created = await call(`${gw.url}/restapi/v1/ask/admin`, {
      auth: gw.secret,
      json: { name: wg, members: [bob.username] },
    });
    assert.equal(created.status, 201, created.text);
    const duty = await api(gw, bob, `/assists/${wg}`, {
      method: 'POST',
      json: { show: 'chat', maxChats: 2 },
    });
    assert.ok(duty.status < 300, duty.text);

    // The browser's view: one EventSource that reconnects by itself with Last-Event-ID.
    const events = new SseClient(withToken(alice.events, alice.token));
    streams.push(events);
    await events.next((e) => e.data.snapshot === true);
    const before = await api(gw, bob, `/messages/${alice.username}`, { text: 'before the restart' });
    assert.equal(before.status, 201, before.text);
    await events.next((e) => e.name === 'chatapi.chat' && e.data.body === 'before the restart');

    await stop(gw);
    await carol.send(
      xml(
        'message',
        { to: alice.jid, type: 'chat', id: 'down-1' },
        xml('body', {}, 'while the gateway was down'),
      ),
    );
    await carol.send(
      xml('message', { to: roomJid, type: 'groupchat', id: 'down-2' }, xml('body', {}, 'room, while down')),
    );
    await carol.next(
      (s) => s.is('message') && s.attrs.type === 'groupchat' && s.getChildText('body') === 'room, while down',
    );

    gw = await gwEnv.start();
    await online(gw, alice);
    await online(gw, bob);
    // The same stream, the same token, and the events missed, each once.
    const said = (body: string) => (e: ReceivedEvent) =>
      (e.name === 'chatapi.chat' || e.name === 'chatapi.muc') && e.data.body === body;
    await events.next(said('while the gateway was down'), 30_000);
    await events.next(said('room, while down'), 30_000);
    for (let i = 0; ; i++) {
      const rooms = await api<{ rooms: Joined[] }>(gw, alice, '/rooms');
      if (rooms.body.rooms.some((r) => r.room === roomJid && r.status === 'joined')) break;
      if (i > 100) throw new Error(`not back in the room: ${rooms.text}`);
      await sleep(200);
    }
    const posted = await api(gw, alice, `/rooms/${room}`, { text: 'back after the restart' });
    assert.equal(posted.status, 201, posted.text);
    await carol.next((s) => s.is('message') && s.getChildText('body') === 'back after the restart');
    const after = await api(gw, bob, `/messages/${alice.username}`, { text: 'after the restart' });
    assert.equal(after.status, 201, after.text);
    await events.next(said('after the restart'));
    for (const body of [
      'before the restart',
      'while the gateway was down',
      'room, while down',
      'after the restart',
    ]) {
      assert.equal(events.events.filter(said(body)).length, 1, `${body} once`);
    }
    // Bob is back on duty, as he was (the workgroup service moved through the restart with the gateway).
    for (let i = 0; ; i++) {
      const list = await api<{ workgroups: { name: string; onDuty: boolean; maxChats: number }[] }>(
        gw,
        bob,
        '/assists',
      );
      const mine = list.body.workgroups?.find((w) => w.name === wg);
      if (mine?.onDuty) {
        assert.equal(mine.maxChats, 2);
        break;
      }
      if (i > 100) throw new Error(`bob not back on duty: ${list.text}`);
      await sleep(200);
    }
    // A second login of the same user is the same session, with a new token.
    const again = await call<Login>(`${gw.url}/restapi/v1/chat/${alice.username}/login`, {
      json: { password: alice.password },
    });
    assert.equal(again.body.streamId, alice.streamId, again.text);
  });

  it('does not bring back a session that logged off, nor any with PARLEY_SESSION_RESTORE=false', async () => {
    const gwEnv = await instance({ PARLEY_SESSION_RESTORE: 'false' });
    let gw = await gwEnv.start();
    const dave = await login(gw, 'dave');
    await stop(gw);
    gw = await gwEnv.start();
    const gone = await api(gw, dave, '');
    assert.equal(gone.status, 404, gone.text);

    const restoring = await instance();
    gw = await restoring.start();
    const erin = await login(gw, 'erin');
    const off = await api(gw, erin, '/logoff', { method: 'POST' });
    assert.ok(off.status < 300, off.text);
    await stop(gw);
    gw = await restoring.start();
    assert.equal((await api(gw, erin, '')).status, 404);
  });
});
