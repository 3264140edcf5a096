import assert from 'node:assert/strict';
import type { MessageLog } from '../../src/messages/MessageLog.js';
import type { MessageEntry } from '../../src/messages/types.js';
import { EVENT_NAMES } from '../../src/sse/events.js';
import { countedMessageLogHooks } from '../helpers/countedMessageLog.js';

// Group commit proved by counting statements: K appends that arrive together must reach PostgreSQL in
// fewer than K statements, and every caller must still get its own event (or undefined for a duplicate).
describe('message log group commit on PostgreSQL', () => {
  const suite = countedMessageLogHooks();
  let counts: Map<string, number>;
  let log: MessageLog;
  let streams: Map<string, string[]>;
  let run = 0;
  beforeEach(() => {
    ({ counts, streams, log } = suite.current);
    run++;
  });
  const inserts = () =>
    ['message_insert', 'message_insert_batch'].reduce((n, s) => n + (counts.get(s) ?? 0), 0);

  const incoming = (owner: string, id: string, body: string): MessageEntry => ({
    owner,
    kind: 'chat',
    direction: 'in',
    peer: `peer${run}@example.test`,
    fromJid: `peer${run}@example.test/r`,
    toJid: `${owner}@example.test`,
    body,
    messageId: id,
  });
  const event = (body: string) => ({ name: EVENT_NAMES.chat, payload: { type: 'chat', body } });

  it('writes K concurrent appends in fewer than K statements, each caller with its own event, ids in order', async () => {
    const users = [0, 1, 2, 3].map((u) => `gc${run}u${u}`);
    const K = 40;
    const calls = Array.from({ length: K }, (_, i) => ({ owner: users[i % users.length]!, body: `b${i}` }));
    // an earlier copy of message 5: its second arrival below is a duplicate
    const earlier = await log.append(incoming(calls[5]!.owner, 'm5', 'b5'), event('b5'));
    assert.ok(earlier?.id);
    counts.clear();
    streams.clear();

    const results = await Promise.all([
      ...calls.map((c, i) => log.append(incoming(c.owner, `m${i}`, c.body), event(c.body))),
      // the same message twice in one batch (live and carbon, say): stored once
      log.append(incoming(users[0]!, 'm0', 'b0'), event('b0')),
    ]);

    assert.ok(inserts() < K, `statements: ${JSON.stringify([...counts])}`);
    assert.ok((counts.get('message_insert_batch') ?? 0) >= 1, 'at least one multi-row statement');
    assert.equal(results[5], undefined, 'stored before: a duplicate');
    assert.equal(results[K], undefined, 'the second copy in the same batch: a duplicate');
    const ids = new Set<string>();
    for (const [i, c] of calls.entries()) {
      if (i === 5) continue;
      const e = results[i];
      assert.ok(e?.id, `call ${i} got an event`);
      assert.equal(e.payload.body, c.body, `call ${i} got its own event`);
      assert.equal(e.payload.id, e.id);
      ids.add(e.id);
    }
    assert.equal(ids.size, K - 1, 'distinct ids');

    for (const u of users) {
      const mine = calls.flatMap((c, i) => (c.owner === u && results[i] ? [results[i].id!] : []));
      const asc = [...mine].sort((a, b) => Number(BigInt(a) - BigInt(b)));
      assert.deepEqual(mine, asc, `${u}: ids follow arrival order`);
      assert.deepEqual(streams.get(u), mine, `${u}: streams got every event once, in id order`);
      const stored = await log.events.after(u, '0', 100);
      assert.deepEqual(
        stored.map((e) => e.payload.body),
        [
          ...(u === calls[5]!.owner ? ['b5'] : []), // stored before the batch
          ...calls.flatMap((c, i) => (c.owner === u && results[i] ? [c.body] : [])),
        ],
        `${u}: one row + event per message`,
      );
    }
  });

  it('fails only the bad row of a batch: the others are written row by row', async () => {
    const owner = `gc${run}bad`;
    const bodies = ['ok1', 'bad\u0000', 'ok2', 'ok3'];
    const settled = await Promise.allSettled(
      bodies.map((b, i) => log.append(incoming(owner, `x${i}`, b), event(b))),
    );
    assert.equal(counts.get('message_insert_batch'), 1, 'one batch, which failed');
    assert.equal(counts.get('message_insert'), bodies.length, 'then each row alone');
    assert.equal(settled[1]!.status, 'rejected');
    for (const i of [0, 2, 3]) {
      const s = settled[i]!;
      assert.equal(s.status, 'fulfilled');
      assert.equal(s.value?.payload.body, bodies[i]);
    }
    const stored = await log.events.after(owner, '0', 10);
    assert.deepEqual(
      stored.map((e) => e.payload.body),
      ['ok1', 'ok2', 'ok3'],
    );
    assert.deepEqual(
      streams.get(owner),
      stored.map((e) => e.id),
    );
  });

  it('applies K concurrent receipts in fewer than K statements, two for one message one after the other', async () => {
    const owner = `gc${run}rc`;
    const peer = `peer${run}@example.test`;
    const K = 12;
    const sent = [];
    for (let i = 0; i < K; i++)
      sent.push(
        await log.append(
          {
            ...incoming(owner, `s${i}`, `out${i}`),
            direction: 'out',
            fromJid: `${owner}@example.test/r`,
            toJid: peer,
          },
          event(`out${i}`),
        ),
      );
    counts.clear();
    streams.clear();
    const receipt = (i: number, status: 'delivered' | 'displayed') => ({
      owner,
      peer,
      messageId: `s${i}`,
      status,
      from: `${peer}/r`,
      name: EVENT_NAMES.receipt,
    });
    const asked = [
      ...Array.from({ length: K }, (_, i) => receipt(i, 'delivered')),
      receipt(0, 'displayed'), // same message as the first: waits for the next statement
      receipt(1, 'delivered'), // again: changes nothing
    ];
    const results = await Promise.all(asked.map((r) => log.receipt(r)));

    const statements = ['receipt_batch', 'receipt_delivered', 'receipt_displayed'].reduce(
      (n, s) => n + (counts.get(s) ?? 0),
      0,
    );
    assert.ok(statements < asked.length, `statements: ${JSON.stringify([...counts])}`);
    for (const [i, r] of asked.entries()) {
      if (i === K + 1) continue;
      const e = results[i];
      assert.ok(e?.id, `receipt ${i} stored`);
      assert.equal(e.payload.stanzaId, r.messageId, `receipt ${i} got its own event`);
      assert.equal(e.payload.status, r.status);
      assert.equal(e.payload.messageId, sent[Number(r.messageId.slice(1))]!.id);
    }
    assert.equal(results[K + 1], undefined, 'a repeated receipt changes nothing');
    const ids = results.flatMap((e) => (e ? [e.id!] : []));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => Number(BigInt(a) - BigInt(b))),
      'ids in arrival order',
    );
    assert.deepEqual(streams.get(owner), ids, 'streams got each receipt once, in id order');
    const page = await log.chatHistory({ owner, peer, limit: 50 });
    assert.deepEqual(
      page.messages.map((m) => [m.body, m.delivered, m.displayed]),
      Array.from({ length: K }, (_, i) => [`out${i}`, true, i === 0]),
    );
  });

  it('writes a copy written alone and the receipt it answers with one statement', async () => {
    const owner = `gc${run}ans`;
    const peer = `peer${run}@example.test`;
    const sent = await log.append(
      {
        ...incoming(owner, 'q1', 'asked'),
        direction: 'out',
        fromJid: `${owner}@example.test/r`,
        toJid: peer,
      },
      event('asked'),
    );
    counts.clear();
    streams.clear();
    const copy = await log.append(
      { ...incoming(`gc${run}ansB`, 'q1', 'asked'), peer: `${owner}@example.test` },
      event('asked'),
      {
        answers: {
          owner,
          peer,
          messageId: 'q1',
          status: 'delivered',
          from: `${peer}/r`,
          name: EVENT_NAMES.receipt,
        },
      },
    );
    assert.ok(copy?.id);
    assert.deepEqual([...counts], [['message_insert_answered', 1]]);
    const [m] = (await log.chatHistory({ owner, peer, limit: 1 })).messages;
    assert.equal(m?.delivered, true);
    assert.equal(streams.get(owner)?.length, 1, 'the receipt went to the sender');
    assert.equal(streams.get(`gc${run}ansB`)?.length, 1, 'the copy to its owner');
    assert.ok(sent?.id);
  });

  it('writes copies that share a batch first, then the receipts they answer', async () => {
    const owner = `gc${run}ans2`;
    const peer = `peer${run}@example.test`;
    const out = (i: number): MessageEntry => ({
      ...incoming(owner, `p${i}`, `asked${i}`),
      direction: 'out',
      fromJid: `${owner}@example.test/r`,
      toJid: peer,
    });
    const sent = [await log.append(out(0), event('asked0')), await log.append(out(1), event('asked1'))];
    counts.clear();
    streams.clear();
    const answers = (i: number) => ({
      answers: {
        owner,
        peer,
        messageId: `p${i}`,
        status: 'delivered' as const,
        from: `${peer}/r`,
        name: EVENT_NAMES.receipt,
      },
    });
    const copyOf = (i: number) => ({
      ...incoming(`gc${run}ans2B`, `p${i}`, `asked${i}`),
      peer: `${owner}@example.test`,
    });
    const copies = await Promise.all(
      [0, 1].map((i) => log.append(copyOf(i), event(`asked${i}`), answers(i))),
    );
    assert.ok(copies.every((c) => c?.id));
    assert.equal(counts.get('message_insert_batch'), 1, 'the copies in one statement');
    assert.equal(counts.get('message_insert_answered'), undefined);
    assert.equal((counts.get('receipt_batch') ?? 0) + (counts.get('receipt_delivered') ?? 0) >= 1, true);
    const page = await log.chatHistory({ owner, peer, limit: 10 });
    assert.deepEqual(
      page.messages.map((m) => [m.body, m.delivered]),
      [
        ['asked0', true],
        ['asked1', true],
      ],
    );
    const receipts = streams.get(owner) ?? [];
    assert.equal(receipts.length, 2, 'a receipt event each, to the sender');
    assert.ok(sent.every((e) => e?.id));
  });

  it('carries any text and data through the array parameters of a batch', async () => {
    const owner = `gc${run}text`;
    const bodies = ['{"a",\\b}', 'NULL', 'tab\t, comma; ünï €', ''];
    const data = { attachments: [{ url: 'https://x.test/a?b=1&c="2"', size: 3 }], n: null };
    const out = await Promise.all(
      bodies.map((b, i) => log.append({ ...incoming(owner, `t${i}`, b), data }, event(b))),
    );
    assert.equal(counts.get('message_insert_batch'), 1);
    assert.deepEqual(
      out.map((e) => e?.payload.body),
      bodies,
    );
    const page = await log.chatHistory({ owner, peer: `peer${run}@example.test`, limit: 10 });
    assert.deepEqual(
      page.messages.map((m) => [m.body, m.data]),
      bodies.map((b) => [b, data]),
    );
  });

  it('writes a lone append with the single-row statement, at once', async () => {
    const e = await log.append(incoming(`gc${run}lone`, 'l1', 'alone'), event('alone'));
    assert.equal(e?.payload.body, 'alone');
    assert.deepEqual([...counts], [['message_insert', 1]]);
  });
});
