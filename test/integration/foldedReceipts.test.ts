import assert from 'node:assert/strict';
import type { MessageEntry, Receipt } from '../../src/messages/types.js';
import { EVENT_NAMES, type DeliveredEvent } from '../../src/sse/events.js';
import { countedMessageLogHooks, type CountedLog } from '../helpers/countedMessageLog.js';

// A recipient's copy that comes while its sender's row still waits in the group commit's queue (under load
// the queue gathers, and the stanza goes out before the row is written) folds its delivery receipt into that
// row's statement. The order is forced, not timed: a setImmediate queued during the transmit runs before the
// group commit's pump, which the row's write schedules after it.
describe('delivery receipts folded into the send they answer (PostgreSQL)', () => {
  const suite = countedMessageLogHooks();
  let c: CountedLog;
  let run = 0;
  beforeEach(() => {
    c = suite.current;
    run++;
  });

  const users = (tag: string) => ({ a: `fr${run}${tag}a`, b: `fr${run}${tag}b` });
  const sendOf = (a: string, b: string, id: string, body: string): MessageEntry => ({
    owner: a,
    kind: 'chat',
    direction: 'out',
    peer: `${b}@example.test`,
    fromJid: `${a}@example.test/r`,
    toJid: `${b}@example.test/r`,
    body,
    messageId: id,
  });
  const copyOf = (a: string, b: string, id: string, body: string): MessageEntry => ({
    ...sendOf(b, a, id, body),
    direction: 'in',
    fromJid: `${a}@example.test/r`,
    toJid: `${b}@example.test/r`,
  });
  const receiptOf = (a: string, b: string, id: string): Receipt => ({
    owner: a,
    peer: `${b}@example.test`,
    messageId: id,
    status: 'delivered',
    from: `${b}@example.test/r`,
    name: EVENT_NAMES.receipt,
  });
  const event = (body: string) => ({ name: EVENT_NAMES.chat, payload: { type: 'chat', body } });

  /** Sends a→b; the copy (answering with its receipt) is appended while the send's row waits. */
  const sendWithCopyWhileQueued = async (a: string, b: string, id: string, body: string) => {
    let copy: Promise<DeliveredEvent | undefined> | undefined;
    const sent = await c.log.append(sendOf(a, b, id, body), event(body), {
      transmit: async () => {
        setImmediate(() => {
          copy = c.log.append(copyOf(a, b, id, body), event(body), { answers: receiptOf(a, b, id) });
        });
      },
    });
    return { sent, copy: await copy! };
  };

  it('writes the send delivered, its receipt event and the copy in one statement', async () => {
    const { a, b } = users('one');
    const { sent, copy } = await sendWithCopyWhileQueued(a, b, 'm1', 'hello');
    assert.ok(sent?.id && copy?.id);
    assert.deepEqual([...c.counts], [['message_insert_batch_delivered', 1]]);

    const [m] = (await c.log.chatHistory({ owner: a, peer: `${b}@example.test`, limit: 1 })).messages;
    assert.equal(m?.delivered, true);
    const handed = c.streams.get(a) ?? [];
    assert.equal(handed.length, 2, 'the send, then its receipt, to the sender');
    assert.equal(handed[0], sent.id);
    assert.ok(BigInt(handed[1]!) > BigInt(sent.id));
    const { rows } = await c.pool.query<{ name: string; payload: Record<string, unknown> }>(
      'SELECT name, payload FROM events WHERE id = $1',
      [handed[1]],
    );
    assert.equal(rows[0]?.name, EVENT_NAMES.receipt);
    assert.deepEqual(rows[0]?.payload, {
      type: 'receipt',
      status: 'delivered',
      from: `${b}@example.test/r`,
      messageId: sent.id,
      stanzaId: 'm1',
    });
    assert.deepEqual(c.streams.get(b), [copy.id], 'the copy to its owner');
  });

  it('applies the receipt as a receipt of its own when the send turns out a duplicate', async () => {
    const { a, b } = users('dup');
    const first = await c.log.append(sendOf(a, b, 'd1', 'again'), event('again'));
    assert.ok(first?.id);
    c.counts.clear();
    c.streams.clear();
    const { sent, copy } = await sendWithCopyWhileQueued(a, b, 'd1', 'again');
    assert.equal(sent, undefined, 'the send was stored before');
    assert.equal(copy?.payload.body, 'again');
    assert.equal(c.counts.get('message_insert_batch_delivered'), 1);
    const [m] = (await c.log.chatHistory({ owner: a, peer: `${b}@example.test`, limit: 5 })).messages;
    assert.equal(m?.delivered, true, 'the first row took the receipt');
    assert.equal(c.streams.get(a)?.length, 1, 'one receipt event to the sender');
  });

  it('leaves a send already on its way alone: the copy waits and carries its receipt', async () => {
    const { a, b } = users('late');
    const sent = await c.log.append(sendOf(a, b, 'l1', 'late'), event('late'));
    c.counts.clear();
    const copy = await c.log.append(copyOf(a, b, 'l1', 'late'), event('late'), {
      answers: receiptOf(a, b, 'l1'),
    });
    assert.ok(sent?.id && copy?.id);
    assert.deepEqual([...c.counts], [['message_insert_answered', 1]]);
  });
});
