import assert from 'node:assert/strict';
import xml, { type Element } from '@xmpp/xml';
import { createLogger } from '../../../src/log.js';
import { GroupPresence, WATCH_GROUP, type AdminLink } from '../../../src/groups/GroupPresence.js';
import type { MemberPresence } from '../../../src/groups/types.js';

const ROSTER = 'jabber:iq:roster';

/** The admin session as GroupPresence sees it: records what is sent, lets the test feed stanzas in. */
class FakeAdmin implements AdminLink {
  readonly jid = 'admin@example.org';
  isOnline = true;
  readonly sent: Element[] = [];
  readonly iqs: Element[] = [];
  roster: Element[] = [];
  #stanza: (el: Element) => void = () => undefined;
  #push: (el: Element) => Element | boolean = () => false;
  readonly #listeners: Record<'online' | 'offline', (() => void)[]> = { online: [], offline: [] };

  on(event: 'online' | 'offline', fn: () => void): void {
    this.#listeners[event].push(fn);
  }
  onStanza(fn: (el: Element) => void): void {
    this.#stanza = fn;
  }
  onIqSet(_ns: string, _name: string, handler: (el: Element) => Element | boolean): void {
    this.#push = handler;
  }
  async send(el: Element): Promise<void> {
    this.sent.push(el);
  }
  async iq(el: Element): Promise<Element> {
    this.iqs.push(el);
    return xml('iq', { type: 'result' }, xml('query', { xmlns: ROSTER }, ...this.roster));
  }
  feed(el: Element): void {
    this.#stanza(el);
  }
  push(el: Element): Element | boolean {
    return this.#push(el);
  }
  fire(event: 'online' | 'offline'): void {
    for (const fn of this.#listeners[event]) fn();
  }
}

const settle = () => new Promise((r) => setImmediate(r));
const item = (jid: string, subscription: string) =>
  xml('item', { jid, subscription }, xml('group', {}, WATCH_GROUP));

describe('GroupPresence', () => {
  let admin: FakeAdmin;
  let presence: GroupPresence;
  let watched: string[];
  let changes: [string, MemberPresence, MemberPresence][];

  beforeEach(async () => {
    admin = new FakeAdmin();
    watched = ['ann@example.org', 'bert@example.org'];
    admin.roster = [item('ann@example.org', 'to'), item('gone@example.org', 'both')];
    presence = new GroupPresence({ admin, log: createLogger('silent'), watched: () => watched });
    changes = [];
    presence.onChange((bare, before, after) => changes.push([bare, before, after]));
    presence.start();
    await settle();
  });

  it('on connection: asks for missing subscriptions, drops unneeded ones, then sends initial presence', () => {
    const subscribes = admin.sent.filter((s) => s.attrs.type === 'subscribe').map((s) => s.attrs.to);
    assert.deepEqual(subscribes, ['bert@example.org'], 'ann is already watched');
    const removed = admin.iqs.flatMap((iq) =>
      (iq.getChild('query', ROSTER)?.getChildren('item') ?? [])
        .filter((i) => i.attrs.subscription === 'remove')
        .map((i) => i.attrs.jid),
    );
    assert.deepEqual(removed, ['gone@example.org']);
    const initial = admin.sent.at(-1)!;
    assert.equal(initial.name, 'presence');
    assert.equal(initial.attrs.to, undefined);
    assert.equal(initial.getChildText('priority'), '-1', 'never a target for messages to the bare JID');
  });

  it('reports a member online with their best resource, changed, then offline when the last one leaves', () => {
    admin.feed(xml('presence', { from: 'ann@example.org/phone' }, xml('show', {}, 'away')));
    admin.feed(xml('presence', { from: 'ann@example.org/tablet' }, xml('priority', {}, '5')));
    admin.feed(xml('presence', { from: 'ann@example.org/phone', type: 'unavailable' }));
    admin.feed(xml('presence', { from: 'ann@example.org/tablet', type: 'unavailable' }));
    assert.deepEqual(
      changes.map(([, , after]) => `${after.online ? 'online' : 'offline'}:${after.show}`),
      ['online:away', 'online:available', 'offline:offline'],
      'the phone going away changes nothing visible while the tablet (priority 5) is best',
    );
    assert.deepEqual(presence.of('ann@example.org'), { online: false, show: 'offline', status: null });
  });

  it('ignores presence from anyone it does not watch', () => {
    admin.feed(xml('presence', { from: 'eve@example.org/x' }));
    assert.deepEqual(changes, []);
  });

  it('forgets everything when the admin session drops, and sets up again when it is back', async () => {
    admin.feed(xml('presence', { from: 'ann@example.org/phone' }));
    admin.fire('offline');
    assert.deepEqual(changes.at(-1)![2], { online: false, show: 'offline', status: null });
    const before = admin.sent.length;
    admin.fire('online');
    await settle();
    assert.ok(
      admin.sent.slice(before).some((s) => s.name === 'presence' && !s.attrs.type),
      'initial presence again',
    );
  });

  it('watches idempotently and follows roster pushes from its own account only', async () => {
    await presence.watch('carl@example.org', 'Carl');
    await presence.watch('carl@example.org', 'Carl');
    assert.equal(admin.sent.filter((s) => s.attrs.to === 'carl@example.org').length, 1);
    const query = (jid: string, sub: string) => xml('query', { xmlns: ROSTER }, item(jid, sub));
    assert.equal(
      admin.push(xml('iq', { type: 'set', from: 'eve@example.org' }, query('x@example.org', 'both'))),
      false,
    );
    assert.equal(admin.push(xml('iq', { type: 'set' }, query('carl@example.org', 'remove'))), true);
    await presence.watch('carl@example.org', 'Carl');
    assert.equal(
      admin.sent.filter((s) => s.attrs.to === 'carl@example.org').length,
      2,
      'asked again once removed',
    );
  });
});
