import assert from 'node:assert/strict';
import type { Element } from '@xmpp/xml';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { bearer, call } from '../../helpers/http.js';
import { XmppPeer } from '../../helpers/xmppPeer.js';
import { registerUser, type TestUser } from '../../rig/users.js';
import type { UserSession } from '../../../src/xmpp/client/UserSession.js';
import { ACK_EVERY_STANZAS, ACK_QUIET_MS } from '../../../src/xmpp/client/ackPolicy.js';
import { dropLink } from '../../helpers/xmppLink.js';
import { needs } from '../../rig/needs.js';
import { SMACKS_MAX_UNACKED } from '../../../tools/servers/prosody.js';
import xml from '@xmpp/xml';

type Login = { streamId: string; token: string };
const SM = 'urn:xmpp:sm:3';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What one Parley session writes to Prosody, counted element by element at the connection (every
 * element the client sends passes Connection.send, which emits `send` once written). Counts, not times:
 * the waits below only give the old behaviour room to show itself.
 */
function countSent(session: UserSession): { sent: Element[]; requests(): number; stop(): void } {
  const sent: Element[] = [];
  const onSend = (el: Element) => sent.push(el);
  session.client.on('send', onSend);
  return {
    sent,
    requests: () => sent.filter((el) => el.is('r', SM)).length,
    stop: () => session.client.removeListener('send', onSend),
  };
}

const unacked = (s: UserSession) =>
  (s.client as unknown as { streamManagement: { outbound_q: unknown[] } }).streamManagement.outbound_q.length;

/** Until the server acked everything this session sent (its queue is what resumption would resend). */
async function allAcked(s: UserSession): Promise<void> {
  for (let i = 0; i < 1000 && unacked(s) > 0; i++) await sleep(20);
  assert.equal(unacked(s), 0, 'the server acked every stanza the session sent');
}

describe('XEP-0198 acks: no stanza on the wire that a user did not cause', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  let bob: TestUser;
  let peer: XmppPeer;
  before(async () => {
    gw = await startGateway();
    bob = await registerUser('ack-bob');
    peer = await XmppPeer.connect(bob.username, bob.password);
  });
  after(async () => {
    await peer?.stop();
    await gw?.stop();
  });

  const login = async (prefix: string) => {
    const u = await registerUser(prefix);
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.equal(r.status, 201);
    return { login: r.body, session: gw.parley.sessions.get(r.body.streamId)! };
  };
  const send = (l: Login, body: string) =>
    call(`${gw.url}/restapi/v1/chat/${l.streamId}/messages/${encodeURIComponent(bob.jid)}`, {
      auth: bearer(l.token),
      json: { body },
    });

  it('an idle session with nothing unacked sends nothing at all', async () => {
    const { session } = await login('ack-idle');
    await allAcked(session);
    const c = countSent(session);
    await sleep(ACK_QUIET_MS + 1000);
    c.stop();
    assert.deepEqual(
      c.sent.map((el) => el.toString()),
      [],
      'no <r/>, no ping, no presence: nothing a user caused',
    );
  });

  it('a burst of messages asks for acks once per batch, and every message is acked', async () => {
    const { login: l, session } = await login('ack-burst');
    await allAcked(session);
    const c = countSent(session);
    const n = 50;
    await Promise.all(Array.from({ length: n }, (_, i) => send(l, `burst ${i}`)));
    await allAcked(session);
    c.stop();
    const messages = c.sent.filter((el) => el.is('message')).length;
    assert.equal(messages, n);
    assert.ok(c.requests() >= 1, 'acks are still requested');
    assert.ok(
      c.requests() <= Math.ceil(n / ACK_EVERY_STANZAS) + 1,
      `${c.requests()} <r/> for ${n} messages (one per ${ACK_EVERY_STANZAS}, plus one when the burst ends)`,
    );
  });

  it('messages at a user’s pace (a few per second) do not each carry an <r/>', async () => {
    const { login: l, session } = await login('ack-paced');
    await allAcked(session);
    const c = countSent(session);
    const n = 12;
    // Gaps longer than the library's 250 ms debounce, which alone made this one <r/> per message.
    for (let i = 0; i < n; i++) {
      assert.equal((await send(l, `paced ${i}`)).status, 201);
      await sleep(300);
    }
    await allAcked(session);
    c.stop();
    assert.ok(c.requests() >= 1 && c.requests() <= 2, `${c.requests()} <r/> for ${n} paced messages`);
  });

  needs(
    'smacks-ack-request-batching',
    'it counts the <r/> the server sends against the batch size the rig configures (SMACKS_MAX_UNACKED)',
  )(
    'the server asks a session for acks once per batch of stanzas it delivers, not after each one',
    async () => {
      // Prosody's own default (smacks_max_unacked_stanzas = 0) is one <r/> per delivered stanza, answered by
      // an <a/>: the rig and the deployments set SMACKS_MAX_UNACKED (tools/servers/prosody.ts, ansible).
      const { session } = await login('ack-server');
      await allAcked(session);
      const tag = `to-parley-${Date.now()}`;
      const requests: Element[] = [];
      let delivered = 0;
      const onElement = (el: Element) => {
        if (el.is('r', SM)) requests.push(el);
        if (el.is('message') && el.getChildText('body')?.startsWith(tag)) delivered++;
      };
      session.client.on('element', onElement);
      const n = 3 * SMACKS_MAX_UNACKED;
      for (let i = 0; i < n; i++) {
        await peer.send(
          xml('message', { to: session.bareJid, type: 'chat' }, xml('body', {}, `${tag} ${i}`)),
        );
        await sleep(20); // one stanza per write, as at a user's pace: each would have drawn its own <r/>
      }
      for (let i = 0; i < 500 && delivered < n; i++) await sleep(20);
      assert.equal(delivered, n);
      await sleep(200); // a request per delivered stanza would follow each one at once
      session.client.removeListener('element', onElement);
      assert.ok(requests.length >= 1, 'the server still asks for acks');
      assert.ok(
        requests.length <= Math.ceil(n / SMACKS_MAX_UNACKED) + 1,
        `${requests.length} <r/> from the server for ${n} delivered messages`,
      );
    },
  );

  it("the session's 'h' counts every stanza it received, IQ results and requests included", async () => {
    // The IQ handlers keep the stanzas they handle; counted after them, 'h' missed every IQ, so the
    // server kept them queued for good and would resend them on a resumption.
    const { session } = await login('ack-count');
    await allAcked(session);
    const sm = (session.client as unknown as { streamManagement: { inbound: number } }).streamManagement;
    let received = 0;
    const onElement = (el: Element) => {
      if (el.is('iq') || el.is('message') || el.is('presence')) received++;
    };
    const before = sm.inbound;
    session.client.on('element', onElement);
    const ping = () => xml('ping', { xmlns: 'urn:xmpp:ping' });
    for (let i = 0; i < 3; i++) await session.client.iqCaller.get(ping(), session.bareJid.split('@')[1]);
    assert.equal(await peer.ping(session.fullJid), true, 'the session answers a ping (an IQ request)');
    const tag = `count-${Date.now()}`;
    const got = new Promise<void>((resolve) => {
      const onStanza = (s: Element) => {
        if (s.getChildText('body') !== tag) return;
        session.client.removeListener('stanza', onStanza);
        resolve();
      };
      session.client.on('stanza', onStanza);
    });
    await peer.send(xml('message', { to: session.fullJid, type: 'chat' }, xml('body', {}, tag)));
    await got;
    session.client.removeListener('element', onElement);
    assert.ok(received >= 5, `${received} stanzas received: 3 ping results, a ping, a message`);
    assert.equal(sm.inbound - before, received, "'h' grew by every stanza the session received");
  });

  it('resumes after a dropped connection and delivers every unacked message exactly once', async () => {
    const { login: l, session } = await login('ack-drop');
    await allAcked(session);
    const tag = `drop-${Date.now()}`;
    const bodies = Array.from({ length: 5 }, (_, i) => `${tag} ${i}`);
    for (const b of bodies) assert.equal((await send(l, b)).status, 201);
    assert.ok(unacked(session) > 0, 'the messages are still unacked when the link drops');
    const back = new Promise<boolean>((resolve) => session.once('ready', (resumed) => resolve(resumed)));
    dropLink(session.client);
    assert.equal(await back, true, 'the session was resumed, not restarted');
    const marker = `${tag} after`;
    assert.equal((await send(l, marker)).status, 201);
    // Order is kept on the stream: once the marker is in, any duplicate would already be in too.
    await peer.next((s) => s.getChildText('body') === marker);
    const got = peer.stanzas
      .map((s) => s.getChildText('body'))
      .filter((b): b is string => !!b && b.startsWith(tag));
    assert.deepEqual(got, [...bodies, marker]);
    await allAcked(session);
  });
});
