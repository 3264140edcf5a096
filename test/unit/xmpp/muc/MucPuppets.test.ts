import assert from 'node:assert/strict';
import xml, { type Element } from '@xmpp/xml';
import { MucPuppets } from '../../../../src/xmpp/muc/MucPuppets.js';
import { BridgeError } from '../../../../src/errors/BridgeError.js';
import { NS } from '../../../../src/xmpp/ns.js';

const ROOM = 'help-rq1@conference.example.org';

/** A component link that records what is sent and lets the test answer it. */
function fakeLink() {
  const sent: Element[] = [];
  let onSend: (s: Element) => void = () => undefined;
  return {
    sent,
    next: () => new Promise<Element>((resolve) => (onSend = resolve)),
    link: {
      send: async (s: Element) => {
        sent.push(s);
        onSend(s);
      },
    },
  };
}

const selfPresence = (to: string, nick: string, ...codes: string[]) =>
  xml(
    'presence',
    { from: `${ROOM}/${nick}`, to },
    xml('x', { xmlns: NS.mucUser }, ...['110', ...codes].map((code) => xml('status', { code }))),
  );
const refusal = (to: string, nick: string, condition: string) =>
  xml(
    'presence',
    { from: `${ROOM}/${nick}`, to, type: 'error' },
    xml('error', { type: 'cancel' }, xml(condition, { xmlns: NS.stanzas })),
  );

describe('MucPuppets', () => {
  it('joins with a stamped from and resolves on the self-presence (case-folded bare JID, exact resource)', async () => {
    const f = fakeLink();
    const puppets = new MucPuppets(f.link, 1000);
    const join = f.next();
    const entered = puppets.enter(ROOM, ['Ada'], () => 'w_ada@bbb.example.org/Ada', 0);
    const p = await join;
    assert.equal(p.attrs.from, 'w_ada@bbb.example.org/Ada');
    assert.equal(p.attrs.to, `${ROOM}/Ada`);
    assert.equal(p.getChild('x', NS.muc)?.getChild('history')?.attrs.maxstanzas, '0');
    // another occupant's resource is not ours
    assert.equal(puppets.feed(selfPresence('w_ada@bbb.example.org/ada', 'Ada')), false);
    assert.equal(puppets.feed(selfPresence('W_Ada@BBB.example.org/Ada', 'Ada', '201')), true);
    assert.deepEqual(await entered, { jid: 'w_ada@bbb.example.org/Ada', nick: 'Ada', created: true });
  });

  it('tries the next nick on conflict and gives up with the error table on another refusal', async () => {
    const f = fakeLink();
    const puppets = new MucPuppets(f.link, 1000);
    let join = f.next();
    const entered = puppets.enter(ROOM, ['Ada', 'Ada (BBB)'], (n) => `w_ada@bbb.example.org/${n}`, 0);
    await join;
    join = f.next();
    puppets.feed(refusal('w_ada@bbb.example.org/Ada', 'Ada', 'conflict'));
    const second = await join;
    assert.equal(second.attrs.to, `${ROOM}/Ada (BBB)`);
    puppets.feed(selfPresence('w_ada@bbb.example.org/Ada (BBB)', 'Ada (BBB)'));
    assert.equal((await entered).nick, 'Ada (BBB)');

    const g = fakeLink();
    const other = new MucPuppets(g.link, 1000);
    const sentJoin = g.next();
    const refused = other.enter(ROOM, ['Ada', 'Ada (BBB)'], () => 'bot@wg.example.org/x', 0);
    await sentJoin;
    other.feed(refusal('bot@wg.example.org/x', 'Ada', 'forbidden'));
    await assert.rejects(refused, (e: unknown) => e instanceof BridgeError && e.code === 'FORBIDDEN');
    assert.equal(g.sent.length, 1);
  });

  it('times out as XMPP_TIMEOUT when the room does not answer', async () => {
    const puppets = new MucPuppets(fakeLink().link, 20);
    await assert.rejects(
      puppets.enter(ROOM, ['Ada'], () => 'a@b.org/c', 0),
      (e: unknown) => e instanceof BridgeError && e.code === 'XMPP_TIMEOUT',
    );
  });

  it('posts and leaves as the puppet', async () => {
    const f = fakeLink();
    const puppets = new MucPuppets(f.link);
    const id = await puppets.say('v@wg.example.org/parley', ROOM, 'hi', { a: 1 });
    const msg = f.sent[0]!;
    assert.deepEqual(
      [msg.attrs.from, msg.attrs.type, msg.attrs.id],
      ['v@wg.example.org/parley', 'groupchat', id],
    );
    assert.equal(msg.getChild('origin-id', NS.sid)?.attrs.id, id);
    assert.equal(msg.getChildText('data', NS.parleyData), '{"a":1}');
    await puppets.leave({ jid: 'v@wg.example.org/parley', nick: 'Vi' }, ROOM);
    assert.deepEqual(
      [f.sent[1]!.attrs.from, f.sent[1]!.attrs.to, f.sent[1]!.attrs.type],
      ['v@wg.example.org/parley', `${ROOM}/Vi`, 'unavailable'],
    );
  });
});
