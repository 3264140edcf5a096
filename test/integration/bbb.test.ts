import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import xml, { type Element } from '@xmpp/xml';
import pg from 'pg';
import { epochNow, verifyChecksum } from '../../src/bbb/checksum.js';
import { NS } from '../../src/xmpp/ns.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { rig } from '../rig/rig.js';
import { registerUser } from '../rig/users.js';
import {
  CallbackReceiver,
  FakeBbb,
  PYTHON,
  SECRET,
  bbbEvents,
  newMeeting,
  pythonCall,
  rawCall,
  rcpCall,
  v1Body,
  v1Call,
  waitFor,
} from './bbbFixtures.js';

const SAMPLE_SEND = JSON.parse(
  readFileSync(new URL('../unit/bbb/samples/SendGroupChatMessageMsg.json', import.meta.url), 'utf8'),
) as unknown;
const SAMPLE_API_SEND = JSON.parse(
  readFileSync(
    new URL('../unit/bbb/samples/SendGroupChatMessageFromApiSysPubMsg.json', import.meta.url),
    'utf8',
  ),
) as unknown;

/** The structure of a JSON value: keys in order, leaves as their type. Two envelopes "look alike" when these match. */
const shape = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(shape)
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
      : typeof v;
const dig = (v: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);

const bbbEnv = {
  BBB_SECRET: SECRET,
  PARLEY_CALLBACK_ALLOW_HOSTS: '127.0.0.1',
  PARLEY_CALLBACK_BACKOFF_MAX_SECONDS: '1',
};

describe('BigBlueButton chat forwarding (BBB 2.x) against real Redis, Prosody and PostgreSQL', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  let db: pg.Pool;
  const bbb = new FakeBbb();
  const receiver = new CallbackReceiver();
  let hooks: string;
  const peers: XmppPeer[] = [];
  before(async () => {
    [gw, hooks] = await Promise.all([startGateway(bbbEnv), receiver.start(), bbb.start()]).then(
      ([g, h]) => [g, h] as const,
    );
    db = new pg.Pool({ connectionString: gw.dbUrl, max: 2 });
  });
  after(async () => {
    for (const p of peers) await p.stop();
    await db?.end();
    await gw?.stop();
    await Promise.all([receiver.stop(), bbb.stop()]);
  });

  const bridgeJoined = (meetingId: string, userId: string) =>
    waitFor(
      'the bridge user to be bound',
      async () =>
        (
          await db.query('SELECT 1 FROM bbb_meetings WHERE registered_id = $1 AND bridge_user_id = $2', [
            meetingId,
            userId,
          ])
        ).rowCount || undefined,
    );
  const roomOf = (id: string) => `bbb-${id.toLowerCase()}@conference.${rig.xmpp.domain}`;
  async function joinRoom(room: string, nick: string): Promise<XmppPeer> {
    const u = await registerUser('bbbpeer');
    const peer = await XmppPeer.connect(u.username, u.password);
    peers.push(peer);
    await peer.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: NS.muc })));
    await peer.next(
      (s) => s.is('presence') && s.attrs.from === `${room}/${nick}` && !!s.getChild('x', NS.mucUser),
    );
    return peer;
  }

  it("serves a client that uses the seed's Python checksum code verbatim: start, send, end", async function () {
    const python = PYTHON.find((p) => (p.startsWith('/') ? existsSync(p) : true));
    if (!python) this.skip();
    const { internalId } = newMeeting();
    const start = await pythonCall(python!, gw.url, 'startChatForMeeting', {
      meeting_id: internalId,
      chat_user: 'Bridge',
      callback_uri: `${hooks}/py`,
      callback_secret: 'py-secret',
    });
    assert.deepEqual([start.status, start.body.success], [200, true], JSON.stringify(start));
    await bbb.publish(bbbEvents.joined(internalId, 'w_pybridge', 'Bridge'));
    await bridgeJoined(internalId, 'w_pybridge');
    // Non-ASCII on purpose: json.dumps sends it as \u escapes, and the server must hash exactly that.
    const send = await pythonCall(
      python!,
      gw.url,
      'sendChatMessage',
      { user_name: 'Jürgen 😀', message: 'Grüße "aus" Python/3' },
      `sendChatMessage/${internalId}`,
    );
    assert.deepEqual([send.status, send.body.success], [200, true], JSON.stringify(send));
    await bbb.nextToAkka(
      (m) =>
        dig(m, 'core', 'header', 'meetingId') === internalId &&
        dig(m, 'core', 'body', 'msg', 'message') === 'Jürgen 😀: Grüße "aus" Python/3',
    );
    const end = await pythonCall(python!, gw.url, 'endChatForMeeting', { meeting_id: internalId });
    assert.deepEqual([end.status, end.body.success], [200, true], JSON.stringify(end));
  });

  it('answers 401 for a checksum one second outside the window, a reused checksum and a tampered body', async () => {
    const { internalId } = newMeeting();
    const params = { meeting_id: internalId, chat_user: 'Bridge' };
    // v1 accepts [now-4, now+5]; now-5 stays outside even if the second ticks between client and server.
    assert.equal(
      (await v1Call(gw.url, 'startChatForMeeting', params, { epoch: epochNow() - 5 })).status,
      401,
    );
    assert.equal((await v1Call(gw.url, 'startChatForMeeting', params, { secret: 'wrong' })).status, 401);
    const good = v1Body('startChatForMeeting', params, { epoch: epochNow() - 3 });
    const first = await rawCall(gw.url, 'startChatForMeeting', good);
    assert.deepEqual(first, {
      status: 200,
      body: { success: true, message: 'Chat registered successfully.' },
    });
    const replay = await rawCall(gw.url, 'startChatForMeeting', good);
    assert.deepEqual(replay, {
      status: 401,
      body: { success: false, message: 'This checksum was already used.' },
    });
    const tampered = v1Body('endChatForMeeting', { meeting_id: internalId }).replace(
      internalId,
      newMeeting().internalId,
    );
    assert.equal((await rawCall(gw.url, 'endChatForMeeting', tampered)).status, 401);
    assert.equal(
      (await rawCall(gw.url, 'endChatForMeeting', JSON.stringify({ meeting_id: internalId }))).status,
      401,
      'no checksum',
    );
    assert.equal((await v1Call(gw.url, 'startChatForMeeting', params)).status, 409, 'already registered');
    assert.equal((await v1Call(gw.url, 'endChatForMeeting', { meeting_id: internalId })).status, 200);
  });

  it('answers bad input BBB-Chat style: 400 bad JSON or parameters, 404 unknown chat or bridge user absent', async () => {
    const { internalId } = newMeeting();
    const bad = await fetch(`${gw.url}/api/startChatForMeeting`, { method: 'POST', body: '{"meeting_id": ' });
    assert.deepEqual(
      [bad.status, await bad.json()],
      [400, { success: false, message: 'The body is not valid JSON.' }],
    );
    const huge = await fetch(`${gw.url}/api/startChatForMeeting`, {
      method: 'POST',
      body: new Blob([`{"x": "${'a'.repeat(70_000)}"}`]),
    });
    assert.deepEqual(
      [huge.status, ((await huge.json()) as { success: boolean }).success],
      [413, false],
      'BBB-Chat calls are small',
    );
    assert.equal(
      (await v1Call(gw.url, 'startChatForMeeting', { meeting_id: internalId })).status,
      400,
      'chat_user missing',
    );
    assert.equal(
      (
        await v1Call(gw.url, 'startChatForMeeting', {
          meeting_id: internalId,
          chat_user: 'B',
          callback_uri: `${hooks}/x`,
        })
      ).status,
      400,
      'secret missing',
    );
    const private10 = await v1Call(gw.url, 'startChatForMeeting', {
      meeting_id: internalId,
      chat_user: 'B',
      callback_uri: 'http://10.0.0.1/cb',
      callback_secret: 's',
    });
    assert.equal(private10.status, 400);
    assert.match(private10.body.message!, /10\.0\.0\.1.*PARLEY_CALLBACK_ALLOW_HOSTS/);
    assert.equal((await v1Call(gw.url, 'endChatForMeeting', { meeting_id: internalId })).status, 404);
    assert.equal(
      (
        await v1Call(
          gw.url,
          'sendChatMessage',
          { user_name: 'a', message: 'b' },
          { path: `sendChatMessage/${internalId}` },
        )
      ).status,
      404,
    );
    const started = await v1Call(gw.url, 'startChatForMeeting', {
      meeting_id: internalId,
      chat_user: 'Bridge',
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    // (Another message than above: an identical call in the same second has the same checksum, used once.)
    const early = await v1Call(
      gw.url,
      'sendChatMessage',
      { user_name: 'a', message: 'too early' },
      { path: `sendChatMessage/${internalId}` },
    );
    assert.deepEqual(
      [early.status, early.body.message],
      [404, 'the bridge user "Bridge" has not joined the meeting'],
    );
    const other = newMeeting().internalId;
    const mismatch = await v1Call(
      gw.url,
      'sendChatMessage',
      { meeting_id: other, user_name: 'a', message: 'b' },
      { path: `sendChatMessage/${internalId}` },
    );
    assert.equal(mismatch.status, 400, 'a signed meeting_id must match the path');
    // Signed 2 s ahead (inside the window): never the same checksum as the 404 above, even across a second boundary.
    assert.equal(
      (await v1Call(gw.url, 'endChatForMeeting', { meeting_id: internalId }, { epoch: epochNow() + 2 }))
        .status,
      200,
    );
  });

  it("BBB public chat → signed callback and the room under the sender's nick; a native room message → BBB", async () => {
    const { internalId } = newMeeting();
    const room = roomOf(internalId);
    assert.equal(
      (
        await v1Call(gw.url, 'startChatForMeeting', {
          meeting_id: internalId,
          chat_user: 'Bridge',
          callback_uri: `${hooks}/v1/${internalId}`,
          callback_secret: 'cb-secret-1',
        })
      ).status,
      200,
    );
    await bbb.publish(bbbEvents.joined(internalId, 'w_bridgebot0001', 'Bridge'));
    await bbb.publish(bbbEvents.joined(internalId, 'w_k3l9xq2mzp7a', 'Ada Lovelace'));
    const peer = await joinRoom(room, 'native');
    await peer.next((s) => s.is('presence') && s.attrs.from === `${room}/Ada Lovelace`);

    await bbb.publish(
      bbbEvents.chat(internalId, 'w_k3l9xq2mzp7a', 'Ada Lovelace', 'Hello from inside the meeting'),
    );
    const cb = await receiver.next((r) => r.path === `/v1/${internalId}`);
    assert.deepEqual(Object.keys(cb.body), ['user_name', 'message', 'checksum']);
    assert.deepEqual([cb.body.user_name, cb.body.message], ['Ada Lovelace', 'Hello from inside the meeting']);
    assert.ok(
      verifyChecksum({
        scheme: 'v1',
        name: 'sendChatMessage',
        params: { user_name: cb.body.user_name, message: cb.body.message },
        checksum: cb.body.checksum!,
        secret: 'cb-secret-1',
        now: epochNow(),
        delta: 5,
      }),
    );
    assert.equal(cb.headers['content-type'], 'application/json');
    assert.match(String(cb.headers['idempotency-key']), /^[0-9a-f]{32}$/);
    const mirrored = await peer.next((s) => s.is('message') && s.attrs.from === `${room}/Ada Lovelace`);
    assert.equal(mirrored.getChildText('body'), 'Hello from inside the meeting');

    await peer.send(
      xml('message', { to: room, type: 'groupchat', id: 'native-1' }, xml('body', {}, 'Hi from XMPP')),
    );
    const sent = await bbb.nextToAkka(
      (m) => dig(m, 'core', 'body', 'msg', 'message') === 'native: Hi from XMPP',
    );
    assert.deepEqual(
      shape(sent),
      shape(SAMPLE_SEND),
      "BBB's exact envelope: the same fields in the same order",
    );
    assert.deepEqual(dig(sent, 'envelope', 'routing'), { meetingId: internalId, userId: 'w_bridgebot0001' });
    assert.deepEqual(dig(sent, 'core', 'header'), {
      name: 'SendGroupChatMessageMsg',
      meetingId: internalId,
      userId: 'w_bridgebot0001',
    });
    assert.deepEqual(dig(sent, 'core', 'body', 'msg', 'sender'), {
      id: 'w_bridgebot0001',
      name: '',
      role: '',
    });
    assert.equal(dig(sent, 'core', 'body', 'chatId'), 'MAIN-PUBLIC-GROUP-CHAT');
    assert.match(String(dig(sent, 'core', 'body', 'msg', 'correlationId')), /^w_bridgebot0001-\d{13}$/);
    await receiver.next(
      (r) =>
        r.path === `/v1/${internalId}` && r.body.user_name === 'native' && r.body.message === 'Hi from XMPP',
    );

    // BBB broadcasts the bridge user's post back, and may repeat a broadcast: neither is forwarded again.
    const repeated = bbbEvents.chat(internalId, 'w_k3l9xq2mzp7a', 'Ada Lovelace', 'once only');
    await bbb.publish(bbbEvents.chat(internalId, 'w_bridgebot0001', 'Bridge', 'native: Hi from XMPP'));
    await bbb.publish(repeated);
    await bbb.publish(repeated);
    await bbb.publish(bbbEvents.chat(internalId, 'w_k3l9xq2mzp7a', 'Ada Lovelace', 'marker'));
    await receiver.next((r) => r.path === `/v1/${internalId}` && r.body.message === 'marker');
    const mine = receiver.received.filter((r) => r.path === `/v1/${internalId}`).map((r) => r.body.message);
    assert.deepEqual(mine, ['Hello from inside the meeting', 'Hi from XMPP', 'once only', 'marker']);
    // The callback for 'marker' can beat the room's copy to the native peer: count once the peer has
    // 'marker' too (the room keeps order, so any second 'once only' would have come before it).
    await peer.next((s: Element) => s.is('message') && s.getChildText('body') === 'marker');
    const echoes = peer.stanzas.filter(
      (s: Element) => s.is('message') && s.getChildText('body') === 'once only',
    );
    assert.equal(echoes.length, 1);
    const { rows } = await db.query(
      'SELECT origin, sender_name, message FROM bbb_messages m JOIN bbb_meetings b ON b.id = m.meeting WHERE b.registered_id = $1 ORDER BY m.id',
      [internalId],
    );
    assert.deepEqual(
      rows.map((r: { origin: string }) => r.origin),
      ['bbb', 'xmpp', 'bbb', 'bbb'],
      'every forwarded message is in history',
    );
    const stored = await db.query<{ callback_secret_enc: string }>(
      'SELECT callback_secret_enc FROM bbb_meetings WHERE registered_id = $1',
      [internalId],
    );
    assert.match(stored.rows[0]!.callback_secret_enc, /^v1\./, 'sealed (AES-256-GCM)');
    assert.ok(!stored.rows[0]!.callback_secret_enc.includes('cb-secret-1'));
  });

  it('API v2 (chat bridge): startChat, runningChats, RCP-signed sendMessage and clearChat callbacks, sendMessage, endChat', async () => {
    const { externalId, internalId } = newMeeting();
    const start = await rcpCall(gw.url, 'startChat', {
      chat_id: externalId,
      chat_user: 'Bridge',
      callback_uri: `${hooks}/v2/${externalId}/`,
      callback_secret: 'cb2',
      callback_id: 'room@conference.example.org',
    });
    assert.deepEqual(start, {
      status: 200,
      body: { success: true, message: 'Chat registered successfully' },
    });
    const partial = await rcpCall(gw.url, 'startChat', {
      chat_id: newMeeting().externalId,
      chat_user: 'B',
      callback_uri: `${hooks}/x`,
    });
    assert.equal(partial.status, 400);
    const running = (await fetch(`${gw.url}/api/runningChats`).then((r) => r.json())) as {
      count: number;
      chat_ids: string[];
    };
    assert.ok(running.chat_ids.includes(externalId) && running.count === running.chat_ids.length);

    // Events carry the internal id; the chat was started with the external one (bound by sha1 prefix).
    await bbb.publish(bbbEvents.joined(internalId, 'w_bridge2', 'Bridge'));
    await bbb.publish(bbbEvents.chat(internalId, 'w_bob', 'Bob', 'Hallo'));
    const msg = await receiver.next((r) => r.path === `/v2/${externalId}/sendMessage`);
    assert.deepEqual(Object.keys(msg.body), ['user_name', 'message', 'chat_id', 'checksum']);
    const { checksum, ...params } = msg.body;
    assert.deepEqual(params, { user_name: 'Bob', message: 'Hallo', chat_id: 'room@conference.example.org' });
    assert.ok(
      verifyChecksum({
        scheme: 'rcp',
        name: 'sendMessage',
        params,
        checksum: checksum!,
        secret: 'cb2',
        now: epochNow(),
        delta: 5,
      }),
    );
    await bbb.publish(bbbEvents.clear(internalId, 'w_bob'));
    const clear = await receiver.next((r) => r.path === `/v2/${externalId}/clearChat`);
    assert.ok(
      verifyChecksum({
        scheme: 'rcp',
        name: 'clearChat',
        params: { chat_id: 'room@conference.example.org' },
        checksum: clear.body.checksum!,
        secret: 'cb2',
        now: epochNow(),
        delta: 5,
      }),
    );

    const send = await rcpCall(gw.url, 'sendMessage', {
      chat_id: externalId,
      user_name: 'Expert Bob',
      message: 'the queue is now open',
    });
    assert.equal(send.status, 200, JSON.stringify(send));
    const posted = await bbb.nextToAkka(
      (m) => dig(m, 'core', 'body', 'msg', 'message') === 'Expert Bob: the queue is now open',
    );
    assert.equal(dig(posted, 'core', 'header', 'meetingId'), internalId);
    assert.deepEqual((await rcpCall(gw.url, 'endChat', { chat_id: externalId })).status, 200);
    const again = await rcpCall(gw.url, 'endChat', { chat_id: externalId }, { epoch: epochNow() + 2 }); // a fresh checksum
    assert.deepEqual(again, { status: 404, body: { success: false, message: 'Chat was not found' } });
    const after = (await fetch(`${gw.url}/api/runningChats`).then((r) => r.json())) as { chat_ids: string[] };
    assert.ok(!after.chat_ids.includes(externalId));
  });

  it('meeting end: callbacks stop, the room closes, the meeting leaves runningChats', async () => {
    const { internalId } = newMeeting();
    const room = roomOf(internalId);
    assert.equal(
      (
        await v1Call(gw.url, 'startChatForMeeting', {
          meeting_id: internalId,
          chat_user: 'Bridge',
          callback_uri: `${hooks}/end/${internalId}`,
          callback_secret: 's',
        })
      ).status,
      200,
    );
    await bbb.publish(bbbEvents.joined(internalId, 'w_ann', 'Ann'));
    const peer = await joinRoom(room, 'watcher');
    await bbb.publish(bbbEvents.chat(internalId, 'w_ann', 'Ann', 'before the end'));
    await receiver.next((r) => r.path === `/end/${internalId}`);

    await bbb.publish(bbbEvents.ended(internalId));
    const gone = await peer.next(
      (s) => s.is('presence') && s.attrs.type === 'unavailable' && s.attrs.from === `${room}/watcher`,
    );
    assert.ok(gone.getChild('x', NS.mucUser)?.getChild('destroy'), 'the room was destroyed');
    const running = (await fetch(`${gw.url}/api/runningChats`).then((r) => r.json())) as {
      chat_ids: string[];
    };
    assert.ok(!running.chat_ids.includes(internalId));
    await bbb.publish(bbbEvents.chat(internalId, 'w_ann', 'Ann', 'after the end'));
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual(
      receiver.received.filter((r) => r.path === `/end/${internalId}`).map((r) => r.body.message),
      ['before the end'],
    );
    const { rows } = await db.query(
      'SELECT end_reason, callback_secret_enc FROM bbb_meetings WHERE registered_id = $1',
      [internalId],
    );
    assert.deepEqual(rows, [{ end_reason: 'MeetingEndedEvtMsg', callback_secret_enc: null }]);
  });

  it('keeps every registered meeting across a Redis reconnect', async () => {
    const { internalId } = newMeeting();
    assert.equal(
      (
        await v1Call(gw.url, 'startChatForMeeting', {
          meeting_id: internalId,
          chat_user: 'Bridge',
          callback_uri: `${hooks}/re/${internalId}`,
          callback_secret: 's',
        })
      ).status,
      200,
    );
    const before = (await bbb.pubSubClients()).get('parley-bbb-sub');
    assert.ok(before, 'the gateway is subscribed');
    await bbb.killPubSubConnections();
    await waitFor('the gateway to re-subscribe on a new connection', async () => {
      const now = (await bbb.pubSubClients()).get('parley-bbb-sub');
      return now !== undefined && now !== before ? now : undefined;
    });
    // Until the subscription is back, BBB's messages go nowhere (Redis pub/sub keeps nothing): retry.
    let n = 0;
    await waitFor(
      'a message after the reconnect',
      async () => {
        await bbb.publish(bbbEvents.chat(internalId, 'w_cy', 'Cy', `ping ${n++}`));
        await new Promise((r) => setTimeout(r, 100));
        return receiver.received.find((r) => r.path === `/re/${internalId}`);
      },
      15_000,
    );
  });
});

describe("BigBlueButton chat forwarding (BBB 3.x: posting as bbb-web's API does)", function () {
  this.timeout(30_000);
  let gw: TestGateway;
  const bbb = new FakeBbb();
  const receiver = new CallbackReceiver();
  let hooks: string;
  before(async () => {
    // No room mirroring here (XMPP_COMPONENT_SECRET unset): the 3.x difference is all on the Redis side.
    [gw, hooks] = await Promise.all([
      startGateway({ ...bbbEnv, BBB_VERSION: '3', XMPP_COMPONENT_SECRET: '' }),
      receiver.start(),
      bbb.start(),
    ]).then(([g, h]) => [g, h] as const);
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([receiver.stop(), bbb.stop()]);
  });

  it('posts SendGroupChatMessageFromApiSysPubMsg without a bridge user, and does not forward its echo', async () => {
    const { internalId } = newMeeting();
    assert.equal(
      (
        await rcpCall(gw.url, 'startChat', {
          chat_id: internalId,
          chat_user: 'Bridge',
          callback_uri: `${hooks}/v3`,
          callback_secret: 's3',
          callback_id: 'c3',
        })
      ).status,
      200,
    );
    const send = await rcpCall(gw.url, 'sendMessage', {
      chat_id: internalId,
      user_name: 'Expert Bob',
      message: 'Queue opened',
    });
    assert.equal(send.status, 200, JSON.stringify(send));
    const sent = await bbb.nextToAkka(
      (m) =>
        dig(m, 'envelope', 'name') === 'SendGroupChatMessageFromApiSysPubMsg' &&
        dig(m, 'core', 'header', 'meetingId') === internalId,
    );
    assert.deepEqual(shape(sent), shape(SAMPLE_API_SEND));
    assert.deepEqual(dig(sent, 'core'), {
      header: { name: 'SendGroupChatMessageFromApiSysPubMsg', meetingId: internalId, userId: 'not-used' },
      body: { userName: 'Expert Bob', message: 'Queue opened' },
    });
    // akka posts it as its system user under the given name; that broadcast is Parley's own echo.
    await bbb.publish(bbbEvents.chat(internalId, 'SYSTEM', 'Expert Bob', 'Queue opened'));
    await bbb.publish(bbbEvents.chat(internalId, 'w_ada', 'Ada', 'a real one'));
    await receiver.next((r) => r.body.message === 'a real one');
    assert.deepEqual(
      receiver.received.map((r) => r.body.message),
      ['a real one'],
    );
  });
});
