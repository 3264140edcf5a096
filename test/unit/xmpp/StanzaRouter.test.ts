import assert from 'node:assert/strict';
import xml, { type Element } from '@xmpp/xml';
import { createLogger } from '../../../src/log.js';
import { NS } from '../../../src/xmpp/ns.js';
import {
  MAX_DEFERRED,
  StanzaRouter,
  payloadNamespaces,
  type StanzaHandler,
} from '../../../src/xmpp/StanzaRouter.js';
import { UserSession } from '../../../src/xmpp/client/UserSession.js';

const log = createLogger('silent');
/** A real session that never connects: the router only passes it to handlers. */
const session = new UserSession({
  streamId: 'ps_unitunitunitunit',
  username: 'alice',
  password: 'pw',
  service: 'xmpp://127.0.0.1:1',
  domain: 'example.org',
  reconnectMaxSeconds: 1,
  log,
});
const ROOM = 'lobby@conference.example.org';

/** The router the gateway's features build, registered in an order that would be wrong if order mattered. */
function gatewayRouter(seen: string[], decline = new Set<string>()) {
  const router = new StanzaRouter(log);
  const h =
    (name: string): StanzaHandler =>
    () => {
      seen.push(name);
      return !decline.has(name);
    };
  router.on({ feature: 'contacts', kind: 'presence' }, h('contacts'));
  router.on({ feature: 'chat', kind: 'message' }, h('chat'));
  router.observe('presence', 'calls', () => {
    seen.push('caps');
    return true; // an observer's answer is ignored
  });
  const calls = h('calls');
  router.on({ feature: 'calls', kind: 'message', ns: NS.jingleMessage }, calls);
  router.on({ feature: 'calls', kind: 'message', type: 'error' }, calls);
  router.on(
    { feature: 'workgroup', kind: 'presence', from: (f) => f.startsWith('support@workgroup.') },
    h('workgroup'),
  );
  const rooms = h('rooms');
  const inRoom = (from: string) => from.split('/')[0] === ROOM;
  router.on({ feature: 'rooms', kind: 'message', type: 'groupchat' }, rooms);
  router.on({ feature: 'rooms', kind: 'message', ns: NS.conference }, rooms);
  router.on({ feature: 'rooms', kind: 'message', ns: NS.mucUser }, rooms);
  router.on({ feature: 'rooms', kind: 'message', from: inRoom }, rooms);
  router.on({ feature: 'rooms', kind: 'presence', ns: NS.mucUser }, rooms);
  router.on({ feature: 'rooms', kind: 'presence', from: inRoom }, rooms);
  return router;
}

async function route(stanza: Element, decline?: Set<string>): Promise<string[]> {
  const seen: string[] = [];
  await gatewayRouter(seen, decline).dispatch(session, stanza);
  return seen;
}

const chat = (from: string, ...children: Element[]) =>
  xml('message', { from, type: 'chat' }, xml('body', {}, 'hi'), ...children);
const jmi = () => xml('propose', { xmlns: NS.jingleMessage, id: 'c1' });

describe('StanzaRouter', () => {
  it('gives a 1:1 message to chat, and everything a joined room sends to rooms', async () => {
    assert.deepEqual(await route(chat('bob@example.org/phone')), ['chat']);
    assert.deepEqual(await route(chat(`${ROOM}/Bob`)), ['rooms'], 'a private message from an occupant');
    assert.deepEqual(await route(xml('message', { from: ROOM, type: 'error' })), ['rooms']);
  });

  it('gives call signalling to calls: live, as a carbon, from the archive, and bounces', async () => {
    assert.deepEqual(await route(xml('message', { from: 'bob@example.org/x' }, jmi())), ['calls']);
    const carbon = xml(
      'message',
      { from: 'alice@example.org' },
      xml(
        'received',
        { xmlns: NS.carbons },
        xml('forwarded', { xmlns: NS.forward }, xml('message', {}, jmi())),
      ),
    );
    assert.deepEqual(await route(carbon), ['calls']);
    const archived = xml(
      'message',
      {},
      xml(
        'result',
        { xmlns: NS.mam, id: 'a1' },
        xml('forwarded', { xmlns: NS.forward }, xml('message', {}, jmi())),
      ),
    );
    assert.deepEqual(await route(archived), ['calls']);
    assert.deepEqual(await route(xml('message', { from: 'bob@example.org', type: 'error', id: 'c1' })), [
      'calls',
    ]);
  });

  it('gives invitations to rooms whatever else they carry, and groupchat from a room we left', async () => {
    const direct = chat('bob@example.org/x', xml('x', { xmlns: NS.conference, jid: ROOM }));
    assert.deepEqual(await route(direct), ['rooms']);
    const mediated = xml('message', { from: 'old@conference.example.org' }, xml('x', { xmlns: NS.mucUser }));
    assert.deepEqual(await route(mediated), ['rooms']);
    assert.deepEqual(await route(xml('message', { from: 'old@conference.example.org', type: 'groupchat' })), [
      'rooms',
    ]);
  });

  it('falls through to the next tier when the owner declines, trying each handler once', async () => {
    const odd = xml('message', { from: `${ROOM}/Bob`, type: 'chat' }, xml('x', { xmlns: NS.mucUser }));
    assert.deepEqual(await route(odd, new Set(['rooms'])), ['rooms', 'chat']);
  });

  it('lets observers see every presence and routes the presence to its one owner', async () => {
    assert.deepEqual(await route(xml('presence', { from: 'bob@example.org/x' })), ['caps', 'contacts']);
    assert.deepEqual(await route(xml('presence', { from: `${ROOM}/Bob` })), ['caps', 'rooms']);
    assert.deepEqual(await route(xml('presence', { from: 'support@workgroup.example.org' })), [
      'caps',
      'workgroup',
    ]);
  });

  it('refuses a second owner for a namespace, a type or a catch-all', () => {
    const router = gatewayRouter([]);
    const noop = () => true;
    assert.throws(
      () => router.on({ feature: 'x', kind: 'message', ns: NS.jingleMessage }, noop),
      /calls and x/,
    );
    assert.throws(() => router.on({ feature: 'x', kind: 'message', type: 'groupchat' }, noop), /rooms and x/);
    assert.throws(() => router.on({ feature: 'x', kind: 'presence' }, noop), /contacts and x/);
    assert.throws(() => router.on({ feature: 'x', kind: 'message', ns: 'a', type: 'chat' }, noop), /one of/);
  });

  it('lists payload namespaces in document order, the forwarded message after the wrapper', () => {
    const carbon = xml(
      'message',
      {},
      xml('sent', { xmlns: NS.carbons }, xml('forwarded', { xmlns: NS.forward }, chat('x@y', jmi()))),
    );
    assert.deepEqual(payloadNamespaces(carbon), [NS.carbons, NS.jingleMessage]);
  });

  describe("a session's lane", () => {
    const fresh = () =>
      new UserSession({
        streamId: 'ps_laneunitlaneunit',
        username: 'bob',
        password: 'pw',
        service: 'xmpp://127.0.0.1:1',
        domain: 'example.org',
        reconnectMaxSeconds: 1,
        log,
      });
    const msg = (n: number) => xml('message', { type: 'chat', from: 'a@example.org/x', id: String(n) });
    const gate = () => {
      let open!: () => void;
      const p = new Promise<void>((r) => (open = r));
      return { p, open };
    };
    const turns = (n = 5) => new Promise((r) => setTimeout(r, n));

    it('offers deferral only while stanzas wait; the lane goes on, drain() waits for the deferred work', async () => {
      const router = new StanzaRouter(log);
      const s = fresh();
      router.attach(s);
      const offered: boolean[] = [];
      const gates = [gate(), gate(), gate()];
      const finished: number[] = [];
      router.on({ feature: 'chat', kind: 'message' }, (_s, st, defer) => {
        const n = Number(st.attrs.id);
        offered.push(defer !== undefined);
        const rest = gates[n]!.p.then(() => void finished.push(n));
        if (defer) defer(rest);
        else return rest.then(() => true);
        return true;
      });
      for (const n of [0, 1, 2]) s.emit('stanza', msg(n));
      await turns();
      assert.deepEqual(offered, [true, true, false], 'the last one has nothing behind it: it waits');
      let drained = false;
      const draining = router.drain(s).then(() => (drained = true));
      gates[2]!.open();
      await turns();
      assert.deepEqual(finished, [2]);
      assert.equal(drained, false, 'the deferred work of 0 and 1 is still out');
      gates[0]!.open();
      gates[1]!.open();
      await draining;
      assert.deepEqual(finished.sort(), [0, 1, 2]);
    });

    it('logs deferred work that fails, and the lane goes on', async () => {
      const router = new StanzaRouter(log);
      const s = fresh();
      router.attach(s);
      const seen: number[] = [];
      router.on({ feature: 'chat', kind: 'message' }, (_s, st, defer) => {
        seen.push(Number(st.attrs.id));
        defer?.(Promise.reject(new Error('store down')));
        return true;
      });
      for (const n of [0, 1, 2]) s.emit('stanza', msg(n));
      await router.drain(s);
      assert.deepEqual(seen, [0, 1, 2]);
    });

    it(`holds at most ${MAX_DEFERRED} deferred pieces of work: past them the lane waits for the oldest`, async () => {
      const router = new StanzaRouter(log);
      const s = fresh();
      router.attach(s);
      const gates = Array.from({ length: MAX_DEFERRED + 5 }, gate);
      let handled = 0;
      router.on({ feature: 'chat', kind: 'message' }, (_s, st, defer) => {
        handled++;
        defer?.(gates[Number(st.attrs.id)]!.p);
        return true;
      });
      for (let n = 0; n < MAX_DEFERRED + 5; n++) s.emit('stanza', msg(n));
      await turns(20);
      assert.equal(handled, MAX_DEFERRED, 'handled up to the bound, then waits');
      gates[0]!.open();
      await turns(20);
      assert.equal(handled, MAX_DEFERRED + 1, 'one more once the oldest finished');
      for (const g of gates) g.open();
      await router.drain(s);
      assert.equal(handled, MAX_DEFERRED + 5);
    });
  });
});
