import assert from 'node:assert/strict';
import type { Element } from '@xmpp/xml';
import { gatewayFixture, type GatewayFixture } from '../helpers/fixture.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; username: string };
const RECEIPTS = 'urn:xmpp:receipts';

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Alice (sender) and Bob (recipient), both with a session on one gateway. Every XEP-0184 receipt stanza
 * the XMPP server hands to Alice's session is recorded, which is what tells a receipt recorded by the
 * gateway apart from one that went through the server.
 */
function pair(fx: GatewayFixture) {
  const login = async (u: TestUser): Promise<Login> => {
    const r = await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.equal(r.status, 201, r.text);
    return { ...r.body, username: u.username };
  };
  return async () => {
    const [a, b] = [await registerUser('lra'), await registerUser('lrb')];
    const [la, lb] = [await login(a), await login(b)];
    const [aliceTab, bobTab] = [la, lb].map((l) => {
      const s = new SseClient(withToken(l.events, l.token));
      fx.streams.push(s);
      return s;
    }) as [SseClient, SseClient];
    await Promise.all([aliceTab.opened, bobTab.opened]);
    const session = fx.gw.parley.sessions.byUser(a.username)!;
    const receiptStanzas: Element[] = [];
    session.on('stanza', (s) => {
      if (s.getChild('received', RECEIPTS)) receiptStanzas.push(s);
    });
    const send = async (from: Login, to: string, body: string) => {
      const r = await call<{ id: string; stanzaId: string }>(
        `${fx.gw.url}/restapi/v1/chat/${from.streamId}/messages/${to}`,
        { auth: bearer(from.token), json: { body } },
      );
      assert.equal(r.status, 201, r.text);
      return r.body;
    };
    /** Alice → Bob, until Alice's stream shows it delivered. */
    const delivered = async (body: string) => {
      const sent = await send(la, b.username, body);
      const r = await aliceTab.next(
        (e) => e.name === 'chatapi.receipt' && e.data.messageId === sent.id && e.data.status === 'delivered',
      );
      return { sent, receipt: r.data };
    };
    /**
     * Bob → Alice through the server, waited for on Alice's stream: what Bob's session sent to Alice before
     * (a receipt stanza) reached Alice's session before this did, since the server keeps one sender's order.
     */
    const flush = async (tag: string) => {
      await send(lb, a.username, tag);
      await aliceTab.next((e) => e.name === 'chatapi.chat' && e.data.body === tag);
    };
    return { a, session, receiptStanzas, delivered, flush };
  };
}

describe('receipts between Parley users of one instance', function () {
  this.timeout(30_000);

  describe('with PARLEY_LOCAL_RECEIPTS (the default)', () => {
    const fx = gatewayFixture({ perTest: true });
    const setup = pair(fx);

    it('records the receipt on the sender’s side with no stanza through the XMPP server', async () => {
      const p = await setup();
      for (const body of ['one', 'two', 'three']) {
        const { sent, receipt } = await p.delivered(body);
        assert.equal(receipt.stanzaId, sent.stanzaId);
      }
      await p.flush('after-local');
      assert.deepEqual(
        p.receiptStanzas.map((s) => s.toString()),
        [],
        'no receipt stanza reached the sender',
      );
    });

    it('sends the stanza while the sender has another client online, and not after it left', async () => {
      const p = await setup();
      const phone = await XmppPeer.connect(p.a.username, p.a.password, 'phone');
      fx.peers.push(phone);
      await until('the phone’s presence reached the session', () => p.session.otherResourcesOnline);
      const { sent } = await p.delivered('while the phone is on');
      await p.flush('after-phone');
      assert.deepEqual(
        p.receiptStanzas.map((s) => s.getChild('received', RECEIPTS)!.attrs.id),
        [sent.stanzaId],
        'the receipt went through the server',
      );

      await phone.stop();
      await until(
        'the phone’s unavailable presence reached the session',
        () => !p.session.otherResourcesOnline,
      );
      await p.delivered('phone gone');
      await p.flush('after-phone-gone');
      assert.equal(p.receiptStanzas.length, 1, 'no further receipt stanza');
    });
  });

  describe('with PARLEY_LOCAL_RECEIPTS=false', () => {
    const fx = gatewayFixture({ perTest: true, env: { PARLEY_LOCAL_RECEIPTS: 'false' } });
    const setup = pair(fx);

    it('every receipt is an XEP-0184 stanza through the server', async () => {
      const p = await setup();
      const ids: string[] = [];
      for (const body of ['one', 'two']) ids.push((await p.delivered(body)).sent.stanzaId);
      // Each copy the server hands Bob's session is answered (ChatService), and a message sent right after
      // his login can reach it twice, live and in the login's archive catch-up: what counts is that every
      // message was acknowledged by a stanza, in order.
      assert.deepEqual(
        [...new Set(p.receiptStanzas.map((s) => s.getChild('received', RECEIPTS)!.attrs.id))],
        ids,
      );
    });
  });
});
