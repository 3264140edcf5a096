import assert from 'node:assert/strict';
import type { EventStore } from '../../src/messages/EventStore.js';
import type { ChatReader, MessageWriter, RoomReader } from '../../src/messages/MessageLog.js';
import type { MessageEntry } from '../../src/messages/types.js';
import { EVENT_NAMES } from '../../src/sse/events.js';
import type { RecordingSink } from './FakeMessageLog.js';

export type ContractLog = MessageWriter & ChatReader & RoomReader & { events: EventStore };

/**
 * What every message log must do, run against the in-memory fake (unit) and Postgres (integration),
 * so the fake the unit tests lean on cannot drift from the real one.
 */
export function messageLogContract(make: () => Promise<{ log: ContractLog; sink: RecordingSink }>): void {
  let log: ContractLog;
  let sink: RecordingSink;
  let n = 0;
  // Fresh names per test: the Postgres run shares one database across the file.
  let alice: string;
  let bob: string;
  beforeEach(async () => {
    ({ log, sink } = await make());
    n++;
    alice = `alice${n}${Date.now()}`;
    bob = `bob${n}${Date.now()}@example.test`;
  });

  const out = (text: string, id: string): MessageEntry => ({
    owner: alice,
    kind: 'chat',
    direction: 'out',
    peer: bob,
    fromJid: `${alice}@example.test/r`,
    toJid: bob,
    body: text,
    messageId: id,
  });
  const inbound = (text: string, id: string): MessageEntry => ({
    ...out(text, id),
    direction: 'in',
    fromJid: `${bob}/r`,
    toJid: `${alice}@example.test`,
  });
  const chatEvent = (body: string) => ({ name: EVENT_NAMES.chat, payload: { type: 'chat', body } });

  it('stores a message with its event once, and delivers the event once', async () => {
    const first = await log.append(out('hi', 'm1'), chatEvent('hi'));
    assert.ok(first?.id);
    assert.equal(first.payload.id, first.id);
    assert.equal(typeof first.payload.timestamp, 'string');
    assert.equal(await log.append(out('hi', 'm1'), chatEvent('hi')), undefined, 'a duplicate');
    assert.deepEqual(
      sink.delivered.map((d) => [d.username, d.event.id]),
      [[alice, first.id]],
    );
    const replay = await log.events.after(alice, '0', 10);
    assert.deepEqual(
      replay.map((e) => [e.id, e.payload.body]),
      [[first.id, 'hi']],
    );
    assert.equal(await log.events.latestId(alice), first.id);
  });

  it('leaves nothing behind when beforeCommit throws', async () => {
    await assert.rejects(
      log.append(out('lost', 'm2'), chatEvent('lost'), {
        beforeCommit: async () => {
          throw new Error('not sent');
        },
      }),
      /not sent/,
    );
    assert.deepEqual((await log.chatHistory({ owner: alice, limit: 10 })).messages, []);
    assert.deepEqual(sink.delivered, []);
  });

  it('leaves nothing behind when transmit throws', async () => {
    await assert.rejects(
      log.append(out('unsent', 't1'), chatEvent('unsent'), {
        transmit: async () => {
          throw new Error('not sent');
        },
      }),
      /not sent/,
    );
    assert.deepEqual((await log.chatHistory({ owner: alice, limit: 10 })).messages, []);
    assert.deepEqual(sink.delivered, []);
  });

  it('stores a transmitted message before resolving, and applies a receipt that came during its transmission', async () => {
    let early: unknown = 'not called';
    let visibleDuringTransmit: unknown;
    // The peer's receipt is handled while the stanza is still going out: the row is not written yet.
    const sent = await log.append(out('fast', 't2'), chatEvent('fast'), {
      transmit: async () => {
        visibleDuringTransmit = (await log.chatHistory({ owner: alice, limit: 10 })).messages.length;
        early = await log.receipt({
          owner: alice,
          peer: bob,
          messageId: 't2',
          status: 'delivered',
          from: `${bob}/r`,
          name: EVENT_NAMES.receipt,
        });
      },
    });
    assert.equal(visibleDuringTransmit, 0, 'written only after the transmission');
    assert.equal(early, undefined, 'nothing to mark yet');
    const [m] = (await log.chatHistory({ owner: alice, limit: 1 })).messages;
    assert.deepEqual([m?.body, m?.delivered], ['fast', true], 'stored when append resolved');
    assert.deepEqual(
      sink.delivered.map((d) => [d.event.name, d.event.payload.messageId ?? null]),
      [
        [EVENT_NAMES.chat, null],
        [EVENT_NAMES.receipt, sent!.id],
      ],
    );
  });

  it('applies a receipt once per status and delivers its event naming the message', async () => {
    const sent = await log.append(out('tick', 'm3'), chatEvent('tick'));
    const receipt = (status: 'delivered' | 'displayed', messageId = 'm3') =>
      log.receipt({
        owner: alice,
        peer: bob,
        messageId,
        status,
        from: `${bob}/r`,
        name: EVENT_NAMES.receipt,
      });
    const delivered = await receipt('delivered');
    assert.equal(delivered?.payload.messageId, sent!.id);
    assert.equal(delivered?.payload.status, 'delivered');
    assert.equal(await receipt('delivered'), undefined, 'already delivered');
    assert.equal(await receipt('delivered', 'unknown'), undefined, 'no such message');
    assert.ok(await receipt('displayed'));
    const [m] = (await log.chatHistory({ owner: alice, limit: 1 })).messages;
    assert.deepEqual([m?.delivered, m?.displayed], [true, true]);
    assert.deepEqual(
      sink.delivered.map((d) => d.event.name),
      [EVENT_NAMES.chat, EVENT_NAMES.receipt, EVENT_NAMES.receipt],
    );
  });

  it('applies a receipt that came before its message was committed, once it is (no timing involved)', async () => {
    let early: unknown = 'not called';
    // The receipt is handled inside the send's transaction: the row is written but not yet visible.
    const sent = await log.append(out('early', 'e1'), chatEvent('early'), {
      beforeCommit: async () => {
        early = await log.receipt({
          owner: alice,
          peer: bob,
          messageId: 'e1',
          status: 'delivered',
          from: `${bob}/r`,
          name: EVENT_NAMES.receipt,
        });
      },
    });
    assert.equal(early, undefined, 'nothing to mark yet');
    const [m] = (await log.chatHistory({ owner: alice, limit: 1 })).messages;
    assert.equal(m?.delivered, true);
    assert.deepEqual(
      sink.delivered.map((d) => [d.event.name, d.event.payload.messageId ?? null]),
      [
        [EVENT_NAMES.chat, null],
        [EVENT_NAMES.receipt, sent!.id],
      ],
    );
  });

  it('records a copy with the receipt its arrival answers, each event to its owner; a receipt early for its message waits', async () => {
    const bobUser = `b${alice}`;
    const copy = (id: string): MessageEntry => ({
      owner: bobUser,
      kind: 'chat',
      direction: 'in',
      peer: `${alice}@example.test`,
      fromJid: `${alice}@example.test/r`,
      toJid: bob,
      body: id,
      messageId: id,
    });
    const answers = (id: string) => ({
      owner: alice,
      peer: bob,
      messageId: id,
      status: 'delivered' as const,
      from: `${bob}/r`,
      name: EVENT_NAMES.receipt,
    });
    const sent = await log.append(out('a1', 'a1'), chatEvent('a1'));
    const got = await log.append(copy('a1'), chatEvent('a1'), { answers: answers('a1') });
    assert.ok(got?.id);
    // The receipt comes before its message is stored (sent from elsewhere, say): it waits for it.
    await log.append(copy('a2'), chatEvent('a2'), { answers: answers('a2') });
    const later = await log.append(out('a2', 'a2'), chatEvent('a2'));
    assert.deepEqual(
      sink.delivered.map((d) => [
        d.username,
        d.event.name,
        d.event.payload.messageId ?? d.event.payload.body,
      ]),
      [
        [alice, EVENT_NAMES.chat, 'a1'],
        [bobUser, EVENT_NAMES.chat, 'a1'],
        [alice, EVENT_NAMES.receipt, sent!.id],
        [bobUser, EVENT_NAMES.chat, 'a2'],
        [alice, EVENT_NAMES.chat, 'a2'],
        [alice, EVENT_NAMES.receipt, later!.id],
      ],
    );
    const page = await log.chatHistory({ owner: alice, peer: bob, limit: 10 });
    assert.deepEqual(
      page.messages.map((m) => [m.body, m.delivered]),
      [
        ['a1', true],
        ['a2', true],
      ],
    );
  });

  it('finds incoming messages by event id or XMPP id, marks them read and counts the unread', async () => {
    const a = await log.append(inbound('one', 'i1'), chatEvent('one'));
    await log.append(inbound('two', 'i2'), chatEvent('two'));
    assert.deepEqual(await log.unread(alice), [{ jid: bob, count: 2 }]);
    const byEvent = await log.findIncoming(alice, bob, a!.id!);
    const byId = await log.findIncoming(alice, bob, 'i1');
    assert.deepEqual(byEvent, byId);
    assert.equal(byId?.messageId, 'i1');
    assert.equal(await log.findIncoming(alice, bob, 'nope'), undefined);
    assert.equal(await log.markRead(alice, bob, byId!.rowId), 1);
    assert.deepEqual(await log.unread(alice), [{ jid: bob, count: 1 }]);
  });

  it('finds an outgoing message by its XMPP id, whichever path stored it', async () => {
    const archived = await log.append(
      { ...out('from the archive', 'o1'), stanzaId: 'a1', sentAt: new Date('2026-12-06T10:00:00Z') },
      chatEvent('from the archive'),
    );
    assert.deepEqual(await log.findOutgoing(alice, bob, 'o1'), {
      eventId: archived!.id,
      sentAt: new Date('2026-12-06T10:00:00Z'),
    });
    await log.append(inbound('incoming', 'o2'), chatEvent('incoming'));
    assert.equal(await log.findOutgoing(alice, bob, 'o2'), undefined, 'not an incoming one');
    assert.equal(await log.findOutgoing(alice, 'carol@example.test', 'o1'), undefined, 'not another peer');
  });

  it('pages chat history by event id: newest page, back with before, forward with after', async () => {
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await log.append(out(`m${i}`, `p${i}`), chatEvent(`m${i}`)))!.id!);
    const newest = await log.chatHistory({ owner: alice, peer: bob, limit: 2 });
    assert.deepEqual(
      newest.messages.map((m) => m.body),
      ['m4', 'm5'],
    );
    assert.deepEqual(newest.page, { limit: 2, hasMore: true, before: ids[3], after: ids[4] });
    const back = await log.chatHistory({ owner: alice, limit: 2, before: newest.page.before! });
    assert.deepEqual(
      back.messages.map((m) => m.body),
      ['m2', 'm3'],
    );
    const fwd = await log.chatHistory({ owner: alice, limit: 3, after: ids[0] });
    assert.deepEqual(
      fwd.messages.map((m) => m.body),
      ['m2', 'm3', 'm4'],
    );
    assert.equal(fwd.page.hasMore, true);
    const found = await log.chatHistory({ owner: alice, keywords: 'm3', limit: 10 });
    assert.deepEqual(
      found.messages.map((m) => m.body),
      ['m3'],
    );
  });

  it('keeps a room message once per owner and once in the room view', async () => {
    const room = `room${n}${Date.now()}@conference.example.test`;
    const copy = (
      owner: string,
      direction: 'in' | 'out',
      stanzaId?: string,
      messageId = 'r1',
    ): MessageEntry => ({
      owner,
      kind: 'groupchat',
      direction,
      peer: room,
      nick: 'al',
      fromJid: `${room}/al`,
      toJid: `${owner}@example.test`,
      body: 'hello room',
      messageId,
      stanzaId,
    });
    const ev = { name: EVENT_NAMES.muc, payload: { type: 'groupchat', body: 'hello room' } };
    assert.ok(await log.append(copy(alice, 'out', 'S1'), ev));
    assert.ok(await log.append(copy(bob, 'in', 'S1'), ev));
    assert.equal(await log.append(copy(bob, 'in', 'S1'), ev), undefined, 'the archive copy again');
    // A room without an archive: the same sender and message id is the same message.
    assert.ok(await log.append(copy(alice, 'out', undefined, 'r2'), ev));
    assert.equal(await log.append(copy(alice, 'out', undefined, 'r2'), ev), undefined);
    const all = await log.roomHistory({ room, limit: 10 });
    assert.equal(all.messages.length, 2);
    assert.equal(all.messages[0]!.direction, undefined);
    const mine = await log.roomHistory({ room, owner: alice, limit: 10 });
    assert.deepEqual(
      mine.messages.map((m) => [m.archiveId, m.direction]),
      [
        ['S1', 'out'],
        [null, 'out'],
      ],
    );
    assert.equal(await log.lastRoomStanzaId(alice, room), 'S1');
  });

  it('knows who holds a room file, until a ban told to their session', async () => {
    const room = `files${n}${Date.now()}@conference.example.test`;
    const url = `https://files.example.test/${room}/a.png`;
    const entry = (owner: string): MessageEntry => ({
      owner,
      kind: 'groupchat',
      direction: 'in',
      peer: room,
      nick: 'al',
      fromJid: `${room}/al`,
      toJid: `${owner}@example.test`,
      body: 'a file',
      messageId: `f${n}`,
    });
    const ev = { name: EVENT_NAMES.muc, payload: { type: 'groupchat', attachments: [{ url }] } };
    assert.ok(await log.append(entry(bob), ev));
    const other = 'other@conference.example.test';
    assert.equal(await log.holdsRoomFile(bob, [other, room], url), true);
    assert.equal(await log.holdsRoomFile(bob, [other], url), false);
    assert.equal(await log.holdsRoomFile(bob, [room], `${url}x`), false);
    assert.equal(await log.holdsRoomFile(alice, [room], url), false);
    await log.events.insert(bob, EVENT_NAMES.muc, { type: 'left', cause: 'banned', room });
    assert.equal(await log.holdsRoomFile(bob, [room], url), false);
  });

  it('stores and replays other features’ events in id order', async () => {
    const a = await log.events.insert(alice, EVENT_NAMES.session, { type: 'online' });
    const b = await log.events.insert(alice, EVENT_NAMES.notify, { type: 'notify' });
    assert.ok(Number(b.id) > Number(a.id));
    assert.deepEqual(
      (await log.events.after(alice, a.id, 10)).map((e) => e.id),
      [b.id],
    );
    assert.equal(await log.events.latestId(`${alice}-nobody`), '0');
  });
}
