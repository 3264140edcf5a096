import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { basic, bearer, call, withToken } from '../helpers/http.js';
import { expectEventMatchesSpec } from '../helpers/openapi.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { dropDatabase } from '../rig/db.js';
import { rig } from '../rig/rig.js';
import { registerUser, uniqueUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Member = {
  username: string;
  jid: string;
  name: string | null;
  site: string | null;
  online: boolean;
  show: string;
};
type MemberList = { group: string; members: Member[] };

/**
 * Organisation presence against the rig's Prosody and PostgreSQL: the admin API, members' presence whatever
 * client they use (Parley or native), `chatapi.group` events, and the subscriptions surviving a restart of
 * Parley and of Prosody. `call` checks every answer against openapi.yaml; events are checked here.
 */
describe('organisation presence (groups) against real Prosody + PostgreSQL', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  const peers: XmppPeer[] = [];
  const streams: SseClient[] = [];
  const master = () => bearer(gw.secret);
  const admin = (path: string, init: Parameters<typeof call>[1] = {}) =>
    call(`${gw.url}/restapi/v1/admin/groups${path}`, { auth: master(), ...init });
  const members = (group: string, query = '', auth = master()) =>
    call<MemberList>(`${gw.url}/restapi/v1/groups/${group}/members${query}`, { auth });

  before(async () => {
    gw = await startGateway();
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await Promise.all(peers.splice(0).map((p) => p.stop()));
  });
  after(async () => {
    if (!rig.xmpp.isRunning()) await rig.xmpp.start();
    await gw?.stop();
  });

  async function login(u: TestUser, g = gw) {
    const l = (
      await call<Login>(`${g.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } })
    ).body;
    const events = new SseClient(withToken(l.events, l.token));
    streams.push(events);
    await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    return { ...l, events };
  }

  const groupEvent =
    (type: string, username?: string) =>
    (e: ReceivedEvent): boolean => {
      if (e.name !== 'chatapi.group' || e.data.type !== type) return false;
      expectEventMatchesSpec(e.name, e.data, e.id || undefined);
      return username === undefined || (e.data.member as Member | undefined)?.username === username;
    };

  /** Resolves once the stream has shown `username` online: in a snapshot, or by an `online` event. */
  const seenOnline = (events: SseClient, username: string) =>
    events.next(
      (e) =>
        groupEvent('online', username)(e) ||
        (groupEvent('snapshot')(e) &&
          (e.data.members as Member[]).some((m) => m.username === username && m.online)),
    );

  /** A group `id` with carer (admin role), a Parley resident and a native resident. */
  async function careHome() {
    const id = uniqueUser('home');
    const carer = await registerUser('carer');
    const ann = await registerUser('ann'); // uses Parley (the Chatta web client)
    const bert = await registerUser('bert'); // uses a native XMPP client
    assert.equal(
      (
        await admin(`/${id}`, {
          method: 'PUT',
          json: { name: 'Sunrise', sites: [{ id: 'rose', name: 'Rose House' }] },
        })
      ).status,
      201,
    );
    const put = await admin(`/${id}/members`, {
      method: 'PUT',
      json: {
        members: [
          { username: carer.username, name: 'Sam (carer)', role: 'admin' },
          { username: ann.username, name: 'Ann', site: 'rose', avatar: 'https://example.org/ann.png' },
          { username: bert.username, name: 'Bert', site: 'rose' },
        ],
      },
    });
    assert.equal(put.status, 200);
    return { id, carer, ann, bert };
  }

  /** A native client sees Parley's request once and approves it (a Parley session approves by itself). */
  async function nativeApproves(u: TestUser): Promise<XmppPeer> {
    const x = await XmppPeer.connect(u.username, u.password);
    peers.push(x);
    await x.x.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    const request = await x.next((s) => s.name === 'presence' && s.attrs.type === 'subscribe');
    assert.equal(String(request.attrs.from).split('/')[0], rig.xmpp.adminJid);
    await x.send(xml('presence', { to: rig.xmpp.adminJid, type: 'subscribed' }));
    return x;
  }

  it('creates organisations with sites and sets members and their profile fields (master secret only)', async () => {
    const id = uniqueUser('org');
    const u = await registerUser('m');
    assert.equal((await admin(`/${id}`, { method: 'PUT', json: { name: 'Org' } })).status, 201);
    const updated = await admin(`/${id}`, {
      method: 'PUT',
      json: { name: 'Org 2', sites: [{ id: 'a', name: 'A' }] },
    });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.body, { id, name: 'Org 2', sites: [{ id: 'a', name: 'A' }], memberCount: 0 });

    const added = await admin(`/${id}/members/${u.username}`, {
      method: 'PUT',
      json: { name: 'Mo', site: 'a' },
    });
    assert.equal(added.status, 201);
    assert.equal((added.body as Member).site, 'a');
    assert.equal(
      (await admin(`/${id}/members/${u.username}`, { method: 'PUT', json: { name: 'Mo' } })).status,
      200,
    );
    assert.equal(
      (await admin(`/${id}/members/${u.username}`, { method: 'PUT', json: { site: 'nowhere' } })).status,
      400,
    );
    assert.equal((await admin('/no-such-group')).status, 404);
    assert.equal((await admin(`/${id}`)).body.memberCount, 1);
    assert.ok(((await admin('')).body.groups as { id: string }[]).some((g) => g.id === id));

    // Members read their group with their own credentials; others and the anonymous may not.
    const stranger = await registerUser('x');
    assert.equal((await members(id, '', basic(u.username, u.password))).status, 200);
    assert.equal((await members(id, '', basic(stranger.username, stranger.password))).status, 403);
    assert.equal((await call(`${gw.url}/restapi/v1/groups/${id}/members`)).status, 401);
    assert.equal((await admin('', { auth: basic(u.username, u.password) })).status, 403);

    // A site that is removed leaves its members in the group, without a site.
    await admin(`/${id}/members/${u.username}`, { method: 'PUT', json: { name: 'Mo', site: 'a' } });
    await admin(`/${id}`, { method: 'PUT', json: { name: 'Org 2', sites: [] } });
    assert.equal((await members(id)).body.members[0]!.site, null);

    assert.equal((await admin(`/${id}/members/${u.username}`, { method: 'DELETE' })).status, 204);
    assert.equal((await admin(`/${id}/members/${u.username}`, { method: 'DELETE' })).status, 404);
    assert.equal((await admin(`/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await members(id)).status, 404);
  });

  it('shows who is online, Parley or native client, live to every member, with no pair subscribing', async () => {
    const { id, carer, ann, bert } = await careHome();
    const sam = await login(carer);
    const first = await sam.events.next(groupEvent('snapshot'));
    assert.equal((first.data.members as Member[]).length, 3);
    // His stream may open before his session approved Parley's request: he is online once the server says so.
    await seenOnline(sam.events, carer.username);
    assert.deepEqual(
      (await members(id, '?online=true')).body.members.map((m) => m.username),
      [carer.username],
    );

    // A Parley user: their session approves Parley's request itself; the carer sees them come online.
    const a = await login(ann);
    const annOnline = await sam.events.next(groupEvent('online', ann.username));
    assert.deepEqual(
      { name: (annOnline.data.member as Member).name, site: (annOnline.data.member as Member).site },
      { name: 'Ann', site: 'rose' },
    );
    // Parley's watcher is named and grouped in her roster, so clients can tell it from a person. (The roster
    // push may still be on its way to her session when the carer already sees her: ask until it arrived.)
    type Item = { jid: string; nickname: string | null; groups: string[]; subscription: string };
    let watcher: Item | undefined;
    for (let i = 0; i < 50 && watcher?.subscription !== 'from'; i++) {
      const r = await call<{ contacts: Item[] }>(`${gw.url}/restapi/v1/chat/${a.streamId}/contacts`, {
        auth: bearer(a.token),
      });
      watcher = r.body.contacts.find((c) => c.jid === rig.xmpp.adminJid);
      if (watcher?.subscription !== 'from') await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual(
      { nickname: watcher?.nickname, groups: watcher?.groups, subscription: watcher?.subscription },
      { nickname: 'Organisation presence', groups: ['parley:groups'], subscription: 'from' },
    );
    // A native client approves once, then counts like anyone else.
    const bx = await nativeApproves(bert);
    await sam.events.next(groupEvent('online', bert.username));
    const online = (await members(id, '?online=true&site=rose', bearer(a.token))).body.members;
    assert.deepEqual(online.map((m) => m.username).sort(), [ann.username, bert.username].sort());

    // Presence changes and profile changes are `changed`; leaving the server is `offline`.
    await bx.send(xml('presence', {}, xml('show', {}, 'away')));
    const away = await sam.events.next(groupEvent('changed', bert.username));
    assert.equal((away.data.member as Member).show, 'away');
    await admin(`/${id}/members/${ann.username}`, { method: 'PUT', json: { name: 'Ann B.', site: 'rose' } });
    const renamed = await sam.events.next(groupEvent('changed', ann.username));
    assert.equal((renamed.data.member as Member).name, 'Ann B.');
    await bx.stop();
    await sam.events.next(groupEvent('offline', bert.username));
    assert.deepEqual(
      (await members(id, '?online=true')).body.members.map((m) => m.username).sort(),
      [carer.username, ann.username].sort(),
    );

    // A bulk change (the whole list replaced) arrives as one fresh snapshot, not an event per member each.
    const cara = uniqueUser('cara');
    const bulk = await admin(`/${id}/members`, {
      method: 'PUT',
      json: {
        members: [
          { username: carer.username, name: 'Sam (carer)', role: 'admin' },
          { username: ann.username, name: 'Ann B.', site: 'rose' },
          { username: bert.username, name: 'Bert', site: 'rose' },
          { username: cara, name: 'Cara' },
        ],
      },
    });
    assert.equal(bulk.status, 200);
    const fresh = await sam.events.next(
      (e) => groupEvent('snapshot')(e) && (e.data.members as Member[]).some((m) => m.username === cara),
    );
    assert.equal((fresh.data.members as Member[]).length, 4);
    assert.ok(!sam.events.events.some(groupEvent('joined', cara)), 'no joined event besides the snapshot');

    // A member removed leaves everyone's list (and theirs).
    await admin(`/${id}/members/${ann.username}`, { method: 'DELETE' });
    await sam.events.next(groupEvent('left', ann.username));
    await a.events.next(groupEvent('left', ann.username));
  });

  it('keeps watching after Parley restarts and after Prosody restarts (the subscriptions are the server’s)', async () => {
    const { id, carer, bert } = await careHome();
    let bx = await nativeApproves(bert);
    for (let i = 0; i < 100 && !(await members(id, '?online=true')).body.members.length; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      (await members(id, '?online=true')).body.members.map((m) => m.username),
      [bert.username],
    );

    // Parley restarts on the same database: the new admin session gets Bert's presence from the server.
    await gw.parley.stop();
    gw = await restartOn(gw);
    const sam = await login(carer);
    const snap = await sam.events.next(groupEvent('snapshot'));
    assert.equal((snap.data.members as Member[]).length, 3);
    await seenOnline(sam.events, bert.username);
    await seenOnline(sam.events, carer.username);
    assert.deepEqual((await members(id, '?online=true')).body.members.map((m) => m.username).sort(), [
      ...[carer.username, bert.username].sort(),
    ]);

    // Prosody restarts: everyone drops (offline), the clients come back, and so does their presence, with
    // no new approval (the roster and subscription were stored by Prosody).
    await rig.xmpp.stop();
    await sam.events.next(groupEvent('offline', bert.username), 20_000);
    await rig.xmpp.start();
    await bx.stop();
    bx = await XmppPeer.connect(bert.username, bert.password);
    peers.push(bx);
    await sam.events.next(groupEvent('online', bert.username), 30_000);
    assert.ok(
      !bx.stanzas.some((s) => s.name === 'presence' && s.attrs.type === 'subscribe'),
      'not asked again',
    );
  });

  /** The same configuration and database, a new process's worth of state (as a restart gives). */
  async function restartOn(old: TestGateway): Promise<TestGateway> {
    const next = await startGateway({ DATABASE_URL: old.dbUrl, PARLEY_SECRET: old.secret });
    // Stopping it also drops the database, as stopping the first one would have.
    return { ...next, stop: async () => (await next.stop(), await dropDatabase(old.dbUrl)) };
  }
});
