import assert from 'node:assert/strict';
import xml, { type Element } from '@xmpp/xml';
import { capsVer, readDiscoInfo } from '../../src/calls/capabilities.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { approveOnceRequested } from '../helpers/subscriptions.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { expectEventMatchesSpec } from '../helpers/openapi.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; jid: string; resource: string };
type CallView = {
  callId: string;
  direction: string;
  from: string;
  to: string;
  state: string;
  outcome: string | null;
  options: Record<string, unknown>;
  reason: string | null;
  condition: string | null;
  answeredBy: string | null;
  durationSeconds: number | null;
};
type History = { calls: CallView[]; page: { hasMore: boolean; before: string | null } };

const JMI = 'urn:xmpp:jingle-message:0';
const jmi = (action: string, id: string, ...children: Element[]) =>
  xml(action, { xmlns: JMI, id }, ...children);
const reason = (condition: string, text?: string) =>
  xml('reason', { xmlns: 'urn:xmpp:jingle:1' }, xml(condition), ...(text ? [xml('text', {}, text)] : []));
/** A native client's JMI message, as Conversations or Dino send them: type chat, to the bare JID, stored. */
const jmiMessage = (to: string, child: Element) =>
  xml(
    'message',
    { to, type: 'chat', id: `m-${Math.random().toString(36).slice(2)}` },
    child,
    xml('store', { xmlns: 'urn:xmpp:hints' }),
  );
const audioVideo = () => [
  xml('description', { xmlns: 'urn:xmpp:jingle:apps:rtp:1', media: 'audio' }),
  xml('description', { xmlns: 'urn:xmpp:jingle:apps:rtp:1', media: 'video' }),
];
const jmiFrom = (action: string, id: string) => (s: Element) =>
  s.is('message') && s.getChild(action, JMI)?.attrs.id === id;

describe('calls (XEP-0353) against real Prosody + PostgreSQL', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  let fast: TestGateway; // rings for one second, for missed calls
  const streams: SseClient[] = [];
  const peers: XmppPeer[] = [];
  before(async () => {
    [gw, fast] = await Promise.all([startGateway(), startGateway({ PARLEY_CALL_RING_SECONDS: '1' })]);
  });
  afterEach(async () => {
    for (const s of streams)
      for (const e of s.events) expectEventMatchesSpec(e.name, e.data, e.id || undefined);
    for (const s of streams.splice(0)) s.close();
    await Promise.all(peers.splice(0).map((p) => p.stop()));
  });
  after(async () => {
    await Promise.all([gw?.stop(), fast?.stop()]);
  });

  const login = async (u: TestUser, g = gw) => {
    const r = await call<Login>(`${g.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return { ...r.body, url: g.url, full: `${r.body.jid}/${r.body.resource}` };
  };
  type Session = Awaited<ReturnType<typeof login>>;
  const tab = async (l: Session) => {
    const s = new SseClient(withToken(l.events, l.token), { names: ['chatapi.call'] });
    streams.push(s);
    await s.opened;
    return s;
  };
  const api = <T = CallView>(l: Session, path: string, json?: unknown) =>
    call<T>(`${l.url}/restapi/v1/chat/${l.streamId}/calls/${path}`, {
      method: 'POST',
      auth: bearer(l.token),
      ...(json === undefined ? {} : { json }),
    });
  const history = (l: Session, query = '') =>
    call<History>(`${l.url}/restapi/v1/chat/${l.jid.split('@')[0]}/calls${query}`, { auth: bearer(l.token) });
  const event = (s: SseClient, type: string, callId: string, timeoutMs?: number) =>
    s.next(
      (e: ReceivedEvent) => e.name === 'chatapi.call' && e.data.type === type && e.data.callId === callId,
      timeoutMs,
    );
  const native = async (u: TestUser, resource = 'phone') => {
    const p = await XmppPeer.connect(u.username, u.password, resource);
    peers.push(p);
    return p;
  };

  it('Parley ↔ Parley: request, ringing, accept on one of two tabs (the other stops ringing), end, history', async () => {
    const [a, b] = [await registerUser('caller'), await registerUser('callee')];
    const [la, lb, lb2] = [await login(a), await login(b), await login(b)]; // lb2: a second tab of the same session
    const [aTab, bTab1, bTab2] = [await tab(la), await tab(lb), await tab(lb2)];

    const started = await api(la, b.username, {
      roomName: 'resident-42',
      autoAccept: true,
      acceptAfter: 5,
      initiator: { id: 7 },
    });
    assert.equal(started.status, 201, started.text);
    const id = started.body.callId;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      [started.body.state, started.body.direction, started.body.from, started.body.to],
      ['proposed', 'out', la.full, b.jid],
    );
    assert.equal((await event(aTab, 'requested', id)).data.direction, 'out');
    const [r1, r2] = await Promise.all([event(bTab1, 'requested', id), event(bTab2, 'requested', id)]);
    assert.equal(r1.id, r2.id, 'one stored event, on every stream');
    assert.deepEqual(r1.data.options, {
      audioOnly: false,
      roomName: 'resident-42',
      autoAccept: true,
      acceptAfter: 5,
    });
    assert.equal(r1.data.from, la.full);

    assert.equal((await api(lb, `${id}/ringing`)).body.state, 'ringing');
    await Promise.all([event(aTab, 'ringing', id), event(bTab1, 'ringing', id), event(bTab2, 'ringing', id)]);

    const accepted = await api(lb, `${id}/accept`);
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(accepted.body.answeredBy, lb.full);
    const [, stopRinging, atCaller] = await Promise.all([
      event(bTab1, 'accepted', id),
      event(bTab2, 'accepted', id),
      event(aTab, 'accepted', id),
    ]);
    assert.equal(stopRinging.data.state, 'accepted', 'the second tab learns the call was taken');
    assert.equal(atCaller.data.by, lb.full);
    assert.equal(
      (await api(lb2, `${id}/accept`)).status,
      200,
      'a second tab of the same session: the call as it is',
    );

    const ended = await api(la, `${id}/end`);
    assert.deepEqual(
      [ended.body.state, ended.body.outcome, ended.body.condition],
      ['ended', 'completed', 'success'],
    );
    assert.equal((await event(bTab1, 'ended', id)).data.outcome, 'completed');
    await event(bTab2, 'ended', id);
    await new Promise((r) => setTimeout(r, 300)); // the callee's own <finish/> comes back: no second event
    assert.deepEqual(
      aTab.events.filter((e) => e.data.callId === id).map((e) => e.data.type),
      ['requested', 'ringing', 'accepted', 'ended'],
    );

    const ha = await history(la);
    assert.equal(ha.status, 200, ha.text);
    assert.deepEqual(
      ha.body.calls.map((c) => [c.callId, c.direction, c.outcome, c.answeredBy]),
      [[id, 'out', 'completed', lb.full]],
    );
    assert.equal(typeof ha.body.calls[0]!.durationSeconds, 'number');
    const hb = await history(lb, `?with=${a.username}`);
    assert.deepEqual(
      hb.body.calls.map((c) => [c.callId, c.direction, c.outcome]),
      [[id, 'in', 'completed']],
    );
    assert.equal((await api(la, `${id}/end`)).status, 409, 'an ended call cannot end again');
  });

  it("Parley ↔ Parley: decline with the seed's declineReason; only the callee may answer", async () => {
    const [a, b] = [await registerUser('caller'), await registerUser('busy')];
    const [la, lb] = [await login(a), await login(b)];
    const [aTab, bTab] = [await tab(la), await tab(lb)];
    const id = (await api(la, b.jid, { audioOnly: true })).body.callId;
    await event(bTab, 'requested', id);
    assert.equal((await api(la, `${id}/accept`)).status, 409, 'the caller cannot accept its own call');
    const declined = await api(lb, `${id}/decline`, { declineReason: 'busy', roomName: 'ignored' });
    assert.deepEqual(
      [declined.body.state, declined.body.outcome, declined.body.reason, declined.body.condition],
      ['ended', 'declined', 'busy', 'busy'],
    );
    const seen = await event(aTab, 'declined', id);
    assert.deepEqual(
      [seen.data.reason, seen.data.condition, seen.data.outcome, seen.data.by],
      ['busy', 'busy', 'declined', lb.full],
    );
    await event(bTab, 'declined', id);
    assert.equal((await api(lb, `${id}/accept`)).status, 409);
    assert.equal((await history(la)).body.calls[0]!.outcome, 'declined');
  });

  it('Parley ↔ Parley: an unanswered call ends as missed after PARLEY_CALL_RING_SECONDS on both sides', async () => {
    const [a, b] = [await registerUser('caller'), await registerUser('away')];
    const [la, lb] = [await login(a, fast), await login(b, fast)];
    const [aTab, bTab] = [await tab(la), await tab(lb)];
    const t0 = Date.now();
    const id = (await api(la, b.username)).body.callId;
    const [atA, atB] = await Promise.all([event(aTab, 'ended', id, 8000), event(bTab, 'ended', id, 8000)]);
    assert.ok(Date.now() - t0 >= 900, 'not before the ring window');
    assert.deepEqual(
      [atA.data.outcome, atB.data.outcome, atB.data.condition],
      ['missed', 'missed', 'timeout'],
    );
    assert.equal((await history(lb)).body.calls[0]!.outcome, 'missed');
    assert.equal((await history(la, '?active=true')).body.calls.length, 0);
  });

  it('a call to a user without a session is a missed call in their history once they log in', async () => {
    const [a, b] = [await registerUser('caller'), await registerUser('offline')];
    const la = await login(a, fast);
    const aTab = await tab(la);
    const id = (await api(la, b.username)).body.callId;
    await event(aTab, 'ended', id, 8000); // retracted after the ring window; both wait in offline storage
    // The server stamped the proposal when it stored it, a little after the caller's ring timer started, so
    // at this moment it may be younger than the ring window (830 ms of 1,000 in one run on a fresh ejabberd)
    // and a login now would ring it. A callee who logs in later, as in the story, finds it past the window:
    // the stamp is before the retract, so one more ring window from here is enough.
    await new Promise((r) => setTimeout(r, 1000));
    const lb = await login(b, fast);
    let calls: CallView[] = [];
    for (let i = 0; i < 60 && calls.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      calls = (await history(lb)).body.calls;
    }
    assert.deepEqual(
      calls.map((c) => [c.callId, c.direction, c.state, c.outcome, c.from]),
      [[id, 'in', 'ended', 'missed', la.full]],
    );
    const replay = await tab(lb); // the login's events URL replays what the login brought in: one `ended`, no ringing
    await event(replay, 'ended', id);
    assert.deepEqual(
      replay.events.filter((e) => e.data.callId === id).map((e) => e.data.type),
      ['ended'],
    );
  });

  it('a call to an unknown account fails', async () => {
    const a = await registerUser('caller');
    const la = await login(a);
    const aTab = await tab(la);
    const id = (await api(la, `nobody-${Date.now()}`)).body.callId;
    const failed = await event(aTab, 'ended', id);
    assert.deepEqual([failed.data.outcome, failed.data.reason], ['failed', 'service-unavailable']);
  });

  it('native XMPP client → Parley: propose, ringing, proceed, finish both ways; a retracted call', async () => {
    const [a, n] = [await registerUser('parley'), await registerUser('native')];
    const la = await login(a);
    const aTab = await tab(la);
    const peer = await native(n);
    await peer.send(jmiMessage(a.jid, jmi('propose', 'native-1', ...audioVideo())));
    const req = await event(aTab, 'requested', 'native-1');
    assert.deepEqual(
      [req.data.direction, req.data.from, req.data.to, req.data.options],
      ['in', peer.jid, a.jid, { audioOnly: false, autoAccept: false }],
    );

    await api(la, 'native-1/ringing');
    const ringing = await peer.next(jmiFrom('ringing', 'native-1'));
    assert.deepEqual(
      [ringing.attrs.to, ringing.attrs.type, !!ringing.getChild('store', 'urn:xmpp:hints')],
      [n.jid, 'chat', true],
    );
    await api(la, 'native-1/accept');
    await peer.next(jmiFrom('proceed', 'native-1'));
    await peer.send(jmiMessage(a.jid, jmi('finish', 'native-1', reason('success'))));
    assert.equal((await event(aTab, 'ended', 'native-1')).data.outcome, 'completed');
    const back = await peer.next(jmiFrom('finish', 'native-1'));
    assert.ok(
      back.getChild('finish', JMI)?.getChild('reason')?.getChild('success'),
      'Parley sends its own finish (XEP-0353 §3.5)',
    );

    await peer.send(
      jmiMessage(
        a.jid,
        jmi(
          'propose',
          'native-2',
          xml('description', { xmlns: 'urn:xmpp:jingle:apps:rtp:1', media: 'audio' }),
        ),
      ),
    );
    assert.deepEqual((await event(aTab, 'requested', 'native-2')).data.options, {
      audioOnly: true,
      autoAccept: false,
    });
    await peer.send(jmiMessage(a.jid, jmi('retract', 'native-2', reason('cancel', 'Retracted'))));
    const retracted = await event(aTab, 'ended', 'native-2');
    assert.deepEqual([retracted.data.outcome, retracted.data.reason], ['cancelled', 'Retracted']);
  });

  it('Parley → native XMPP client: the client sees a standard proposal, rings, rejects; then proceeds and gets a finish', async () => {
    const [a, n] = [await registerUser('parley'), await registerUser('native')];
    const la = await login(a);
    const aTab = await tab(la);
    const peer = await native(n);
    const id = (await api(la, n.jid, { roomName: 'room-9' })).body.callId;
    const propose = await peer.next(jmiFrom('propose', id));
    assert.deepEqual([propose.attrs.to, propose.attrs.type], [n.jid, 'chat']);
    const p = propose.getChild('propose', JMI)!;
    assert.deepEqual(
      p.getChildren('description', 'urn:xmpp:jingle:apps:rtp:1').map((d) => d.attrs.media),
      ['audio', 'video'],
    );
    assert.equal(p.getChild('call', 'urn:parley:call:0')?.attrs['room-name'], 'room-9');
    await peer.send(jmiMessage(a.jid, jmi('ringing', id)));
    assert.equal((await event(aTab, 'ringing', id)).data.by, peer.jid);
    await peer.send(jmiMessage(a.jid, jmi('reject', id, reason('busy', 'Busy'))));
    const declined = await event(aTab, 'declined', id);
    assert.deepEqual([declined.data.condition, declined.data.reason], ['busy', 'Busy']);

    const id2 = (await api(la, n.jid, { audioOnly: true })).body.callId;
    await peer.next(jmiFrom('propose', id2));
    await peer.send(jmiMessage(a.jid, jmi('proceed', id2)));
    assert.equal((await event(aTab, 'accepted', id2)).data.by, peer.jid);
    assert.equal((await api(la, `${id2}/end`, { reason: 'bye' })).body.outcome, 'completed');
    const finish = (await peer.next(jmiFrom('finish', id2))).getChild('finish', JMI)!;
    assert.ok(finish.getChild('reason')?.getChild('success'));
    assert.equal(finish.getChild('reason')?.getChildText('text'), 'bye');
  });

  it("an answer on the user's native phone (a carbon) stops the ringing in Parley", async () => {
    const [a, n] = [await registerUser('both'), await registerUser('caller')];
    const la = await login(a);
    const aTab = await tab(la);
    const phone = await native(a, 'phone');
    await phone.x.iqCaller.request(
      xml('iq', { type: 'set' }, xml('enable', { xmlns: 'urn:xmpp:carbons:2' })),
    );
    const caller = await native(n);
    await caller.send(jmiMessage(a.jid, jmi('propose', 'carbon-1', ...audioVideo())));
    await Promise.all([event(aTab, 'requested', 'carbon-1'), phone.next(jmiFrom('propose', 'carbon-1'))]);
    await phone.send(jmiMessage(n.jid, jmi('proceed', 'carbon-1')));
    const answered = await event(aTab, 'accepted', 'carbon-1');
    assert.deepEqual([answered.data.carbon, answered.data.by], [true, phone.jid]);
    const late = await api(la, 'carbon-1/accept');
    assert.equal(late.status, 409, 'answered on another device');
    await caller.send(jmiMessage(a.jid, jmi('finish', 'carbon-1', reason('success'))));
    assert.equal((await event(aTab, 'ended', 'carbon-1')).data.outcome, 'completed');
  });

  it('tells which contacts can take calls, from verified caps and from disco#info', async () => {
    const [a, b, n] = [
      await registerUser('asker'),
      await registerUser('parleyb'),
      await registerUser('phone'),
    ];
    const [la, lb] = [await login(a), await login(b)];
    const peer = await native(n);
    const features = [
      'http://jabber.org/protocol/disco#info',
      'urn:xmpp:jingle:1',
      'urn:xmpp:jingle:apps:rtp:1',
      'urn:xmpp:jingle:apps:rtp:audio',
      'urn:xmpp:jingle:apps:rtp:video',
      JMI,
    ];
    const answer = xml(
      'query',
      { xmlns: 'http://jabber.org/protocol/disco#info' },
      xml('identity', { category: 'client', type: 'phone', name: 'Phone' }),
      ...features.map((f) => xml('feature', { var: f })),
    );
    const ver = capsVer(readDiscoInfo(answer))!;
    peer.x.iqCallee.get('http://jabber.org/protocol/disco#info', 'query', () => answer);
    await peer.send(
      xml(
        'presence',
        { to: a.jid },
        xml('c', {
          xmlns: 'http://jabber.org/protocol/caps',
          hash: 'sha-1',
          node: 'https://phone.example',
          ver,
        }),
      ),
    );

    const caps = (jid: string) =>
      call<{ jid: string; calls: boolean; resources: Record<string, unknown>[] }>(
        `${gw.url}/restapi/v1/chat/${la.streamId}/contacts/${encodeURIComponent(jid)}/capabilities`,
        { auth: bearer(la.token) },
      );
    let phone = await caps(n.jid);
    for (let i = 0; i < 50 && phone.body.resources.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      phone = await caps(n.jid);
    }
    assert.deepEqual(phone.body, {
      jid: n.jid,
      calls: true,
      resources: [
        { jid: peer.jid, calls: true, jmi: true, jingle: true, audio: true, video: true, parley: false },
      ],
    });

    // Bob (Parley) shares presence with Alice through the contacts API; his session answers disco#info itself.
    await call(`${gw.url}/restapi/v1/chat/${la.streamId}/contacts`, {
      auth: bearer(la.token),
      json: { jid: b.jid },
    });
    await approveOnceRequested(gw.url, lb.streamId, bearer(lb.token), a.jid);
    let bob = await caps(b.username);
    for (let i = 0; i < 50 && bob.body.resources.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      bob = await caps(b.username);
    }
    assert.deepEqual(bob.body, {
      jid: b.jid,
      calls: true,
      resources: [
        { jid: lb.full, calls: true, jmi: true, jingle: false, audio: false, video: false, parley: true },
      ],
    });
    assert.deepEqual((await caps('nobody-here')).body.calls, false);
    assert.equal((await caps(`${n.jid}/phone`)).status, 400);
  });

  it('answers bad input precisely', async () => {
    const [a, b] = [await registerUser('strict'), await registerUser('other')];
    const [la, lb] = [await login(a), await login(b)];
    assert.equal((await api(la, b.username, { acceptAfter: -1 })).status, 400);
    assert.equal((await api(la, b.username, { video: true })).status, 400, 'unknown fields are refused');
    assert.equal((await api(la, a.username)).status, 400, 'nobody calls themself');
    assert.equal((await api(la, 'not a jid@@')).status, 400);
    const text = await call(`${gw.url}/restapi/v1/chat/${la.streamId}/calls/${b.username}`, {
      auth: bearer(la.token),
      text: 'call me',
    });
    assert.equal(text.status, 415);
    assert.equal((await api(la, 'no-such-call/accept')).status, 404);
    assert.equal(
      (await api(lb, `${(await api(la, b.username)).body.callId}/decline`, { condition: 'grumpy' })).status,
      400,
    );
    assert.equal(
      (await call(`${gw.url}/restapi/v1/chat/${a.username}/calls`, { auth: bearer(lb.token) })).status,
      403,
    );
    assert.equal((await history(la, '?limit=0')).status, 400);
  });
});
