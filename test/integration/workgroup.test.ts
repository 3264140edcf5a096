import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { gatewayFixture } from '../helpers/fixture.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { dropDatabase } from '../rig/db.js';
import { registerUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';
import { needs } from '../rig/needs.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Problem = { code: string; status: number; detail: string };
type AskStatus = {
  id: string;
  status: string;
  position: number | null;
  queuePosition: number;
  room: string | null;
  token: string;
  events: string;
};

const WG = 'http://jabber.org/protocol/workgroup';
const JIVE = 'http://jivesoftware.com/protocol/workgroup';
const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';

const is =
  (name: string, type: string, extra: (d: Record<string, unknown>) => boolean = () => true) =>
  (e: ReceivedEvent) =>
    e.name === name && e.data.type === type && extra(e.data);

/**
 * Expert queues end to end, real Prosody + PostgreSQL: REST agents and visitors, native XMPP clients on
 * either side (XEP-0142 as Openfire Fastpath speaks it), timers shortened per workgroup, and a restart.
 */
describe('workgroups (XEP-0142 expert queues) against real Prosody + PostgreSQL', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({ perTest: true });
  const { streams, peers } = fx;

  const domain = () => rig.xmpp.domain;
  const wgJid = (name: string) => `${name}@workgroup.${domain()}`;

  async function createWorkgroup(members: string[], settings: Record<string, unknown> = {}): Promise<string> {
    const name = `wg-${randomBytes(3).toString('hex')}`;
    const r = await call(`${fx.gw.url}/restapi/v1/ask/admin`, {
      auth: fx.gw.secret,
      json: { name, description: 'Diabetes desk', members: members.join(', '), ...settings },
    });
    assert.equal(r.status, 201, r.text);
    return name;
  }

  /** A Parley user, logged in, with an event stream; `api` calls paths under its stream. */
  async function agent(prefix = 'agent') {
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
    const offer = (match: (d: Record<string, unknown>) => boolean = () => true, from = 0) =>
      events.next(is('chatapi.assist', 'offerReceived', match), 15_000, from);
    return { ...u, ...l, api, events, offer };
  }
  type Agent = Awaited<ReturnType<typeof agent>>;

  const onDuty = async (a: Agent, wg: string, body?: object) => {
    const r = await a.api(`/assists/${wg}`, { method: 'POST', ...(body ? { json: body } : {}) });
    assert.equal(r.status, 200, r.text);
    return r;
  };

  /** A visitor without an account: POST /ask, then their own event stream. */
  async function visitor(workgroup: string, question = 'How much insulin should I take?') {
    const userID = `v${randomBytes(3).toString('hex')}`;
    const r = await call<AskStatus>(`${fx.gw.url}/restapi/v1/ask`, {
      json: { workgroup, userID, emailAddress: `${userID}@example.org`, question },
    });
    assert.equal(r.status, 202, r.text);
    const events = new SseClient(withToken(r.body.events, r.body.token));
    streams.push(events);
    await events.next((e) => e.name === 'chatapi.ask' && e.data.snapshot === true);
    const api = <T = Record<string, unknown>>(init: Parameters<typeof call>[1] = {}) =>
      call<T>(`${fx.gw.url}/restapi/v1/ask/${userID}`, { auth: bearer(r.body.token), ...init });
    return { userID, question, ...r.body, events, api };
  }
  type Visitor = Awaited<ReturnType<typeof visitor>>;

  const ofRequest = (v: { id: string }) => (d: Record<string, unknown>) => d.requestId === v.id;
  const positionIs = (v: Visitor, p: number) =>
    v.events.next(
      is('chatapi.ask', 'update-queue', (d) => d.position === p && d.remaingTime === d.remainingTime),
    );

  const offersTo = (x: XmppPeer) =>
    x.stanzas.filter((s) => s.name === 'iq' && s.getChild('offer', WG)).map((s) => s.getChild('offer', WG)!);

  it('3 agents, 5 visitors: round-robin, max chats skipped, reject moves on, timeout revokes, positions update, both sides meet in the room', async () => {
    const [a1, a2, a3] = [await agent('ann'), await agent('ben'), await agent('cat')];
    const wg = await createWorkgroup([a1.username, a2.username, a3.username], {
      offerTimeout: 4,
      welcomeText: 'Welcome to the diabetes desk',
      closingText: 'Thank you for asking',
    });
    await onDuty(a1, wg, { maxChats: 1 });
    await onDuty(a2, wg);
    await onDuty(a3, wg, { show: 'chat' });

    const vs: Visitor[] = [];
    for (let i = 0; i < 5; i++) vs.push(await visitor(wg, `Question ${i + 1}`));
    const [v1, v2, v3, v4, v5] = vs as [Visitor, Visitor, Visitor, Visitor, Visitor];
    for (const [i, v] of vs.entries()) await positionIs(v, i + 1);

    // Round-robin a1, a2, a3; then a1 is full (1 open offer = max 1), so a2 and a3 again.
    const o1 = await a1.offer(ofRequest(v1));
    const o2 = await a2.offer(ofRequest(v2));
    const o3 = await a3.offer(ofRequest(v3));
    await a2.offer(ofRequest(v4));
    const o5 = await a3.offer(ofRequest(v5));
    assert.deepEqual(o1.data.metaData, {
      username: v1.userID,
      email: `${v1.userID}@example.org`,
      question: 'Question 1',
    });
    assert.equal(o1.data.from, `visitor-${v1.id}@workgroup.${domain()}`);
    assert.equal(o1.data.workgroup, wgJid(wg));
    assert.equal(o1.data.timeout, 4);

    // a1 accepts v1 (by the offer's id): everyone still waiting moves up one place.
    const acc = await a1.api<{ status: string; offerId: string }>(`/offer/${o1.data.offerId}`, {
      method: 'POST',
    });
    assert.equal(acc.status, 200, acc.text);
    assert.equal(acc.body.status, 'accepted');
    for (const [i, v] of [v2, v3, v4, v5].entries()) await positionIs(v, i + 1);

    // a3 takes v3 and v5; a2 rejects v2, which moves on past a1 (at max chats) and a2 (rejected) to a3.
    for (const o of [o3, o5])
      assert.equal((await a3.api(`/offer/${o.data.offerId}`, { method: 'POST' })).status, 200);
    const mark = a3.events.events.length;
    assert.equal((await a2.api(`/offer/${o2.data.offerId}`, { method: 'DELETE' })).status, 204);
    const o2again = await a3.offer(ofRequest(v2), mark);
    assert.ok(
      !a1.events.events.some(is('chatapi.assist', 'offerReceived', ofRequest(v2))),
      'a1 (at max chats) was skipped',
    );
    assert.equal((await a3.api(`/offer/${o2again.data.offerId}`, { method: 'POST' })).status, 200);

    // Both sides are invited: the agent as a room invitation, the visitor as a chatapi.ask offer.
    const invite = await a1.events.next(is('chatapi.muc', 'invitationReceived'));
    const room = String(invite.data.room);
    assert.match(room, new RegExp(`^${wg}-${v1.id}@conference\\.`));
    const vOffer = await v1.events.next(is('chatapi.ask', 'offer'));
    assert.equal(vOffer.data.mucRoom, room);
    assert.equal((await v1.api<AskStatus>()).body.status, 'routed');

    // They talk: the question is the room's first message, then the welcome text.
    assert.equal((await v1.api({ method: 'POST' })).status, 200);
    const first = await v1.events.next(is('chatapi.ask', 'groupchat'));
    assert.equal(first.data.body, 'Question 1');
    await v1.events.next(is('chatapi.ask', 'groupchat', (d) => d.body === 'Welcome to the diabetes desk'));
    const joined = await a1.api(`/rooms/${room}`, { method: 'PUT' });
    assert.ok(joined.status === 200 || joined.status === 201, joined.text);
    await a1.events.next(is('chatapi.muc', 'groupchat', (d) => d.room === room && d.body === 'Question 1'));
    assert.equal((await a1.api(`/rooms/${room}`, { text: 'Take 4 units' })).status < 300, true);
    await v1.events.next(
      is('chatapi.ask', 'groupchat', (d) => d.body === 'Take 4 units' && d.direction === 'in'),
    );
    assert.equal((await v1.api({ method: 'PUT', text: 'Thanks!' })).status, 202);
    await v1.events.next(
      is('chatapi.ask', 'groupchat', (d) => d.body === 'Thanks!' && d.direction === 'out'),
    );
    await a1.events.next(is('chatapi.muc', 'groupchat', (d) => d.room === room && d.body === 'Thanks!'));

    // a2 never answers v4: after the offer timeout it is revoked and goes to the next agent (a3).
    const revoked = await a2.events.next(
      is('chatapi.assist', 'offerRevoked', (d) => d.from === `visitor-${v4.id}@workgroup.${domain()}`),
      15_000,
    );
    assert.equal(revoked.data.reason, 'The offer has timed out');
    const o4 = await a3.offer(ofRequest(v4));
    assert.equal((await a3.api(`/offer/${o4.data.offerId}`, { method: 'POST' })).status, 200);
    for (const v of [v2, v3, v4, v5]) await v.events.next(is('chatapi.ask', 'offer'));

    // The agent's view: four chats for a3, nobody waiting.
    const queues = await a3.api<{ queues: { name: string; currentChats: number; users: unknown[] }[] }>(
      '/assists/queues',
    );
    const q = queues.body.queues.find((x) => x.name === wg)!;
    assert.deepEqual([q.currentChats, q.users.length], [4, 0]);

    // The agent leaves: the chat ends, the visitor gets the closing text.
    assert.equal((await a1.api(`/rooms/${room}`, { method: 'DELETE' })).status, 204);
    await v1.events.next(is('chatapi.ask', 'groupchat', (d) => d.body === 'Thank you for asking'));
    const ended = await v1.api<AskStatus & { endReason: string }>();
    assert.deepEqual([ended.body.status, ended.body.endReason], ['ended', 'agent-left']);
  });

  it('a native XMPP client as a visitor (XEP-0142 join-queue) reaches a REST agent', async () => {
    const a = await agent('rest-agent');
    const wg = await createWorkgroup([a.username]);
    const u = await registerUser('native-visitor');
    const x = await XmppPeer.connect(u.username, u.password, 'laptop');
    peers.push(x);
    const join = xml(
      'iq',
      { type: 'set', to: wgJid(wg) },
      xml(
        'join-queue',
        { xmlns: WG },
        xml('queue-notifications', {}),
        xml(
          'metadata',
          { xmlns: JIVE },
          xml('value', { name: 'username' }, 'Jane'),
          xml('value', { name: 'question' }, 'Is fruit OK?'),
        ),
      ),
    );
    await x.x.iqCaller.request(join, 5000);
    const status = await x.next((s) => s.name === 'message' && s.getChild('queue-status', WG) !== undefined);
    assert.equal(status.getChild('queue-status', WG)!.getChildText('position'), '1');
    const polled = await x.x.iqCaller.request(
      xml('iq', { type: 'get', to: wgJid(wg) }, xml('queue-status', { xmlns: WG })),
      5000,
    );
    assert.equal(polled.getChild('queue-status', WG)?.getChildText('position'), '1');
    await assert.rejects(
      x.x.iqCaller.request(join, 5000),
      (e: { condition?: string }) => e.condition === 'conflict',
      'one join per session',
    );
    await assert.rejects(
      x.x.iqCaller.request(
        xml('iq', { type: 'set', to: wgJid('nope-nope') }, xml('join-queue', { xmlns: WG })),
        5000,
      ),
      (e: { condition?: string }) => e.condition === 'item-not-found',
    );

    // Another native user joins and departs (XEP-0142 depart-queue): told with a depart-queue message.
    const u2 = await registerUser('native-visitor');
    const y = await XmppPeer.connect(u2.username, u2.password, 'phone');
    peers.push(y);
    await y.x.iqCaller.request(join, 5000);
    await y.x.iqCaller.request(
      xml('iq', { type: 'set', to: wgJid(wg) }, xml('depart-queue', { xmlns: WG })),
      5000,
    );
    const left = await y.next((s) => s.name === 'message' && s.getChild('depart-queue', WG) !== undefined);
    assert.ok(left.getChild('depart-queue', WG)!.getChild('departure-requested'));

    await onDuty(a, wg);
    const offer = await a.offer();
    assert.equal(offer.data.from, `${u.jid}/laptop`);
    assert.deepEqual(offer.data.metaData, { username: 'Jane', question: 'Is fruit OK?' });
    assert.equal((await a.api(`/offer/${offer.data.offerId}`, { method: 'POST' })).status, 200);

    const invitation = await x.next(
      (s) => s.name === 'message' && s.getChild('x', MUC_USER)?.getChild('invite') !== undefined,
    );
    const room = String(invitation.attrs.from);
    assert.equal((await a.events.next(is('chatapi.muc', 'invitationReceived'))).data.room, room);
    await x.send(xml('presence', { to: `${room}/Jane` }, xml('x', { xmlns: MUC })));
    await x.next(
      (s) =>
        s.name === 'message' &&
        String(s.attrs.from).startsWith(`${room}/`) &&
        s.getChildText('body') === 'Is fruit OK?',
    );
    assert.ok((await a.api(`/rooms/${room}`, { method: 'PUT' })).status < 300);
    await a.api(`/rooms/${room}`, { text: 'In moderation' });
    await x.next((s) => s.name === 'message' && s.getChildText('body') === 'In moderation');
    await x.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'Thank you')));
    await a.events.next(is('chatapi.muc', 'groupchat', (d) => d.body === 'Thank you' && d.nick === 'Jane'));
  });

  needs(
    'muc-forwards-invite-extensions',
    "the agent's client matches the room invitation to its offer by the <offer/> the room forwards",
  )("a native XMPP client as an agent accepts a REST visitor's request", async () => {
    const wgName = `wg-${randomBytes(3).toString('hex')}`;
    const u = await registerUser('native-agent');
    const r = await call(`${fx.gw.url}/restapi/v1/ask/admin`, {
      auth: fx.gw.secret,
      json: { name: wgName, members: [u.username] },
    });
    assert.equal(r.status, 201, r.text);
    const x = await XmppPeer.connect(u.username, u.password, 'desk');
    peers.push(x);
    x.x.iqCallee.set(WG, 'offer', () => true);
    await x.send(
      xml(
        'presence',
        { to: wgJid(wgName) },
        xml('show', {}, 'chat'),
        xml('agent-status', { xmlns: WG }, xml('max-chats', {}, '2')),
      ),
    );
    const answer = await x.next(
      (s) =>
        s.name === 'presence' &&
        String(s.attrs.from) === wgJid(wgName) &&
        s.getChild('agent-status', WG) !== undefined,
    );
    assert.equal(answer.getChild('agent-status', WG)!.getChildText('max-chats'), '2');

    const v = await visitor(wgName, 'Can I fast?');
    const offerIq = await x.next((s) => s.name === 'iq' && s.getChild('offer', WG) !== undefined);
    const offer = offerIq.getChild('offer', WG)!;
    assert.equal(offer.attrs.jid, `visitor-${v.id}@workgroup.${domain()}`);
    const meta = Object.fromEntries(
      offer
        .getChild('metadata', JIVE)!
        .getChildren('value')
        .map((e) => [e.attrs.name, e.text()]),
    );
    assert.equal(meta.question, 'Can I fast?');
    await x.next((s) => s.name === 'presence' && s.getChild('notify-queue', WG) !== undefined);

    await x.x.iqCaller.request(
      xml(
        'iq',
        { type: 'set', to: wgJid(wgName) },
        xml('offer-accept', { xmlns: WG, jid: String(offer.attrs.jid) }),
      ),
      5000,
    );
    const invitation = await x.next(
      (s) => s.name === 'message' && s.getChild('x', MUC_USER)?.getChild('invite') !== undefined,
    );
    assert.equal(
      invitation.getChild('offer', WG)?.attrs.jid,
      offer.attrs.jid,
      'the invitation names the user (XEP-0142)',
    );
    assert.equal(invitation.getChild('offer', WG)?.attrs.id, offer.attrs.id);
    const room = String(invitation.attrs.from);
    assert.equal((await v.events.next(is('chatapi.ask', 'offer'))).data.mucRoom, room);
    assert.equal((await v.api({ method: 'POST' })).status, 200);
    await x.send(xml('presence', { to: `${room}/Expert` }, xml('x', { xmlns: MUC })));
    await x.next((s) => s.name === 'message' && s.getChildText('body') === 'Can I fast?');
    await x.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'Ask your doctor first')));
    const said = await v.events.next(
      is('chatapi.ask', 'groupchat', (d) => d.body === 'Ask your doctor first'),
    );
    assert.equal(said.data.nick, 'Expert');
  });

  it('a visitor cancels while queued (others move up) and while being offered (the offer is revoked)', async () => {
    const a = await agent();
    const wg = await createWorkgroup([a.username]);
    const [v1, v2] = [await visitor(wg), await visitor(wg)];
    await positionIs(v2, 2);
    assert.equal((await v1.api({ method: 'DELETE' })).status, 204);
    const departed = await v1.events.next(is('chatapi.ask', 'depart-queue'));
    assert.equal(departed.data.reason, 'departure-requested');
    assert.equal((await v1.api<AskStatus>()).body.status, 'canceled');
    await positionIs(v2, 1);

    await onDuty(a, wg);
    const offer = await a.offer(ofRequest(v2));
    assert.equal((await v2.api({ method: 'DELETE' })).status, 204);
    const revoked = await a.events.next(is('chatapi.assist', 'offerRevoked'));
    assert.deepEqual([revoked.data.offerId, revoked.data.reason], [offer.data.offerId, 'User canceled']);
    // Accepting a revoked offer: 409 (here by the event's id, as ofchat clients send it).
    const late = await a.api<Problem>(`/offer/${offer.id}`, { method: 'POST' });
    assert.deepEqual([late.status, late.body.code], [409, 'CONFLICT']);
  });

  it('times a request out when nobody is on duty', async () => {
    const wg = await createWorkgroup([], { requestTimeout: 1.5 });
    const v = await visitor(wg);
    const t0 = Date.now();
    const departed = await v.events.next(is('chatapi.ask', 'depart-queue'), 10_000);
    assert.equal(departed.data.reason, 'agent-not-found');
    assert.ok(Date.now() - t0 < 5000);
    const s = await v.api<AskStatus & { endReason: string }>();
    assert.deepEqual(
      [s.body.status, s.body.endReason, s.body.queuePosition],
      ['timeout', 'agent-not-found', -1],
    );
  });

  it('answers bad input: 404 unknown workgroup, 400 missing fields, 403 not your offer, 409 revoked offer', async () => {
    const [a, b] = [await agent(), await agent()];
    const wg = await createWorkgroup([a.username, b.username]);
    const unknown = await call<Problem>(`${fx.gw.url}/restapi/v1/ask`, {
      json: { workgroup: 'no-such-wg', userID: 'x1', emailAddress: 'x@example.org', question: 'q' },
    });
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'NOT_FOUND']);
    const missing = await call<Problem & { errors: { path: string }[] }>(`${fx.gw.url}/restapi/v1/ask`, {
      json: { workgroup: wg, userID: 'x2' },
    });
    assert.deepEqual([missing.status, missing.body.code], [400, 'VALIDATION_FAILED']);
    assert.deepEqual(missing.body.errors.map((e) => e.path).sort(), ['body.emailAddress', 'body.question']);
    assert.equal((await call(`${fx.gw.url}/restapi/v1/ask/admin`, { json: { name: 'x' } })).status, 401);
    assert.equal(
      (await call(`${fx.gw.url}/restapi/v1/ask/admin`, { auth: fx.gw.secret, json: { name: wg } })).status,
      409,
    );
    assert.equal((await a.api(`/assists/no-such-wg`, { method: 'POST' })).status, 404);
    const stranger = await agent('stranger');
    assert.equal((await stranger.api<Problem>(`/assists/${wg}`, { method: 'POST' })).status, 403);

    await onDuty(a, wg);
    const v = await visitor(wg);
    assert.equal((await v.api<Problem>({ method: 'POST' })).status, 409, 'no room before an agent accepted');
    const other = await call<Problem>(`${fx.gw.url}/restapi/v1/ask/someone-else`, { auth: bearer(v.token) });
    assert.equal(other.status, 403);
    const offer = await a.offer(ofRequest(v));
    const notYours = await b.api<Problem>(`/offer/${offer.data.offerId}`, { method: 'POST' });
    assert.deepEqual([notYours.status, notYours.body.code], [403, 'FORBIDDEN']);
    assert.equal((await b.api<Problem>('/offer/of0000000000000000', { method: 'POST' })).status, 404);
    assert.equal((await a.api(`/offer/${offer.data.offerId}`, { method: 'DELETE' })).status, 204);
    const again = await a.api<Problem>(`/offer/${offer.data.offerId}`, { method: 'POST' });
    assert.deepEqual([again.status, again.body.code], [409, 'CONFLICT']);
  });

  it('agents: list and queues, off duty hands open offers on, the README accept form, a second expert invited', async () => {
    const [a, b, c] = [await agent('amy'), await agent('bob'), await agent('cyd')];
    const wg = await createWorkgroup([a.username, b.username, c.username], { description: 'Nutrition' });
    await onDuty(a, wg, { show: 'chat', maxChats: 3 });
    const list = await a.api<{
      workgroups: { workgroup: string; onDuty: boolean; show: string; maxChats: number }[];
    }>('/assists');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      list.body.workgroups.find((w) => w.workgroup === wgJid(wg)),
      {
        workgroup: wgJid(wg),
        name: wg,
        description: 'Nutrition',
        onDuty: true,
        show: 'chat',
        maxChats: 3,
        currentChats: 0,
      },
    );
    assert.equal((await b.api<{ workgroups: unknown[] }>('/assists')).body.workgroups.length, 1);

    const v = await visitor(wg, 'Is bread OK?');
    const offer = await a.offer(ofRequest(v));
    const queues = await a.api<{
      queues: { name: string; status: string; users: { userID: string; queuePosition: number }[] }[];
    }>('/assists/queues');
    const q = queues.body.queues.find((x) => x.name === wg)!;
    assert.deepEqual(
      [q.status, q.users.map((u) => [u.userID, u.queuePosition])],
      ['active', [[v.userID, 1]]],
    );
    await a.events.next(
      is('chatapi.ask', 'notify-queue', (d) => d.workgroup === wgJid(wg) && d.userCount === 1),
    );
    await a.events.next(
      is('chatapi.ask', 'notify-queue-details', (d) => d.userid === v.userID && d.postion === 1),
    );

    // a goes off duty with the offer open: it is revoked and goes to the next agent on duty.
    await onDuty(b, wg);
    assert.equal((await a.api(`/assists/${wg}`, { method: 'DELETE' })).status, 204);
    assert.equal(
      (await a.events.next(is('chatapi.assist', 'offerRevoked'))).data.reason,
      'The agent went off duty',
    );
    const toB = await b.offer(ofRequest(v));
    assert.notEqual(toB.data.offerId, offer.data.offerId);

    // The seed README's form: PUT /chat/assists/{workgroup}/{offerId}, the caller's own session.
    const accepted = await call<{ status: string }>(
      `${fx.gw.url}/restapi/v1/chat/assists/${wg}/${toB.data.offerId}`,
      { method: 'PUT', auth: bearer(b.token) },
    );
    assert.deepEqual([accepted.status, accepted.body.status], [200, 'accepted']);
    const room = String((await b.events.next(is('chatapi.muc', 'invitationReceived'))).data.room);

    // More experts: b invites c into the same room with the rooms API.
    assert.ok((await b.api(`/rooms/${room}`, { method: 'PUT' })).status < 300);
    assert.equal(
      (await b.api(`/rooms/${room}/${c.username}`, { method: 'POST', text: 'Can you help?' })).status,
      204,
    );
    assert.equal((await c.events.next(is('chatapi.muc', 'invitationReceived'))).data.room, room);
    assert.ok((await c.api(`/rooms/${room}`, { method: 'PUT' })).status < 300);
    await c.events.next(is('chatapi.muc', 'groupchat', (d) => d.room === room && d.body === 'Is bread OK?'));
  });

  it('administers workgroups: list, describe, members as text, settings as JSON, delete (waiting visitors are told)', async () => {
    const a = await agent();
    const wg = await createWorkgroup([]);
    const admin = (path = '', init: Parameters<typeof call>[1] = {}) =>
      call<Record<string, unknown>>(`${fx.gw.url}/restapi/v1/ask/admin${path}`, {
        auth: fx.gw.secret,
        ...init,
      });
    const all = await admin();
    assert.ok((all.body.workgroups as { name: string }[]).some((w) => w.name === wg));
    const text = await admin(`/${wg}`, { text: `${a.username}, someone-else` });
    assert.deepEqual(text.body.members, [`${a.username}@${domain()}`, `someone-else@${domain()}`]);
    const json = await admin(`/${wg}`, {
      json: { members: [a.username], offerTimeout: 2.5, welcomeText: 'Hi', description: null },
    });
    assert.equal(json.status, 200, json.text);
    assert.deepEqual(json.body.settings, {
      offerTimeout: 2.5,
      requestTimeout: 240,
      maxChats: 4,
      rejectionTimeout: 20,
      welcomeText: 'Hi',
      closingText: null,
    });
    assert.equal(json.body.description, null);
    assert.equal((await admin(`/${wg}`, { json: { maxChats: 0 } })).status, 400);
    const v = await visitor(wg);
    assert.equal((await admin(`/${wg}`)).body.waiting, 1);
    assert.equal((await admin(`/${wg}`, { method: 'DELETE' })).status, 204);
    const departed = await v.events.next(is('chatapi.ask', 'depart-queue'));
    assert.deepEqual(
      [departed.data.reason, departed.data.detail],
      ['agent-not-found', 'the workgroup was deleted'],
    );
    assert.equal((await admin(`/${wg}`)).status, 404);
    assert.equal(
      (await v.api<AskStatus>()).body.status,
      'canceled',
      'the visitor can still read how it ended',
    );
  });

  it('keeps 3 queued requests in order across a gateway restart, re-offers the one in flight, then serves them', async () => {
    const wgName = `wg-${randomBytes(3).toString('hex')}`;
    const u = await registerUser('native-agent');
    assert.equal(
      (
        await call(`${fx.gw.url}/restapi/v1/ask/admin`, {
          auth: fx.gw.secret,
          json: { name: wgName, members: [u.username], offerTimeout: 60 },
        })
      ).status,
      201,
    );
    const vs = [
      await visitor(wgName, 'first'),
      await visitor(wgName, 'second'),
      await visitor(wgName, 'third'),
    ];
    // A native agent who can take one chat at a time: v1's offer is in flight when the gateway stops.
    const x = (await nativeAgentFor(wgName, u, 1)).x;
    const firstOffer = await x.next((s) => s.name === 'iq' && s.getChild('offer', WG) !== undefined);
    assert.equal(firstOffer.getChild('offer', WG)!.attrs.jid, `visitor-${vs[0]!.id}@workgroup.${domain()}`);

    for (const s of streams.splice(0)) s.close();
    const dbUrl = fx.gw.dbUrl;
    await fx.gw.parley.stop();
    fx.gw = await startGateway({ DATABASE_URL: dbUrl });
    try {
      const status = async (v: Visitor) =>
        (await call<AskStatus>(`${fx.gw.url}/restapi/v1/ask/${v.userID}`, { auth: bearer(v.token) })).body;
      // The stale offer is revoked and v1 offered again; v2 and v3 keep their places.
      const revoke = await x.next(
        (s) => s.name === 'iq' && s.getChild('offer-revoke', WG) !== undefined,
        20_000,
      );
      assert.equal(revoke.getChild('offer-revoke', WG)!.attrs.id, firstOffer.getChild('offer', WG)!.attrs.id);
      const reoffer = await x.next(
        (s) => s.name === 'iq' && s !== firstOffer && s.getChild('offer', WG) !== undefined,
        20_000,
      );
      assert.equal(reoffer.getChild('offer', WG)!.getChild('session', JIVE)!.attrs.id, vs[0]!.id);
      assert.deepEqual(
        (await Promise.all(vs.map(status))).map((s) => [s.status, s.queuePosition]),
        [
          ['offered', 1],
          ['queued', 2],
          ['queued', 3],
        ],
      );

      const v1Events = new SseClient(
        withToken(`${fx.gw.url}/restapi/v1/ask/${vs[0]!.userID}/events`, vs[0]!.token),
      );
      streams.push(v1Events);
      await x.x.iqCaller.request(
        xml(
          'iq',
          { type: 'set', to: wgJid(wgName) },
          xml('offer-accept', { xmlns: WG, id: String(reoffer.getChild('offer', WG)!.attrs.id) }),
        ),
        5000,
      );
      await v1Events.next(is('chatapi.ask', 'offer'));
      // More capacity: v2 and v3 are offered, in queue order, and accepted.
      await x.send(
        xml('presence', { to: wgJid(wgName) }, xml('agent-status', { xmlns: WG }, xml('max-chats', {}, '4'))),
      );
      const deadline = Date.now() + 15_000;
      while (offersTo(x).length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const order = offersTo(x).map((o) => o.getChild('session', JIVE)!.attrs.id);
      assert.deepEqual(order, [vs[0]!.id, vs[0]!.id, vs[1]!.id, vs[2]!.id]);
      for (const o of offersTo(x).slice(2)) {
        await x.x.iqCaller.request(
          xml(
            'iq',
            { type: 'set', to: wgJid(wgName) },
            xml('offer-accept', { xmlns: WG, id: String(o.attrs.id) }),
          ),
          5000,
        );
      }
      for (let i = 0; i < 50 && (await status(vs[2]!)).status !== 'routed'; i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        (await Promise.all(vs.map(status))).map((s) => s.status),
        ['routed', 'routed', 'routed'],
      );
    } finally {
      await fx.gw.stop();
      fx.gw = undefined as unknown as TestGateway;
      await dropDatabase(dbUrl);
    }
  });

  async function nativeAgentFor(wg: string, u: { username: string; password: string }, maxChats: number) {
    const x = await XmppPeer.connect(u.username, u.password, 'desk');
    peers.push(x);
    x.x.iqCallee.set(WG, 'offer', () => true);
    x.x.iqCallee.set(WG, 'offer-revoke', () => true);
    await x.send(
      xml(
        'presence',
        { to: wgJid(wg) },
        xml('agent-status', { xmlns: WG }, xml('max-chats', {}, String(maxChats))),
      ),
    );
    await x.next((s: Element) => s.name === 'presence' && String(s.attrs.from) === wgJid(wg));
    return { x };
  }
});
