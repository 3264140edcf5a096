import assert from 'node:assert/strict';
import xml, { type Element } from '@xmpp/xml';
import { ChatService, type ChatSession } from '../../../src/chat/ChatService.js';
import { createLogger, type Log } from '../../../src/log.js';
import { EVENT_NAMES } from '../../../src/sse/events.js';
import { NS } from '../../../src/xmpp/ns.js';
import { FakeMessageLog, RecordingSink } from '../../helpers/FakeMessageLog.js';
import { ALLOW_ALL } from '../../../src/moderation/index.js';
import { OutboundBudget } from '../../../src/xmpp/client/OutboundBudget.js';

const silent: Log = createLogger('silent');

/**
 * Alice's session: records what it sends; `failSend` makes the XMPP write fail; `budget` stands in for
 * the instance's backpressure ledger, with `unacked` stanzas of hers still in flight.
 */
class FakeSession implements ChatSession {
  readonly username = 'alice';
  readonly bareJid = 'alice@example.test';
  readonly fullJid = 'alice@example.test/parley-1';
  isOnline = true;
  failSend = false;
  unacked = 0;
  budget = new OutboundBudget({
    maxPerSession: 2,
    maxPerInstance: 3,
    maxSessionBytes: 1024 * 1024,
    maxDelayMs: 250,
    maxTransitMs: 1000,
    maxStallMs: 250,
  });
  readonly sent: Element[] = [];
  /** runs while a stanza goes out, before send resolves (what the server does meanwhile) */
  whileSending?: (stanza: Element) => Promise<void>;
  admitted = 0;
  admitSend(): () => void {
    this.budget.check({ pending: this.unacked + this.admitted, bytes: 0, delayMs: 0 });
    this.admitted++;
    let released = false; // as UserSession's: giving it back twice counts once
    return () => {
      if (!released) this.admitted--;
      released = true;
    };
  }
  async send(stanza: Element): Promise<void> {
    if (this.failSend) throw new Error('socket closed');
    this.sent.push(stanza);
    await this.whileSending?.(stanza);
  }
  async iq(): Promise<Element> {
    return xml('iq', { type: 'result' });
  }
}

describe('ChatService (with the in-memory message log)', () => {
  let log: FakeMessageLog;
  let sink: RecordingSink;
  let published: { name: string; payload: Record<string, unknown> }[];
  let chat: ChatService;
  let session: FakeSession;
  beforeEach(() => {
    sink = new RecordingSink();
    log = new FakeMessageLog(sink);
    published = [];
    const hub = {
      publish: async (
        _u: string,
        name: (typeof EVENT_NAMES)[keyof typeof EVENT_NAMES],
        payload: Record<string, unknown>,
      ) => {
        published.push({ name, payload });
        return { name, payload };
      },
    };
    chat = new ChatService({ messages: log, hub, log: silent, domain: 'example.test', policy: ALLOW_ALL });
    session = new FakeSession();
  });

  it('stores a sent message with its event before answering, and the stanza asks for a receipt', async () => {
    const sent = await chat.send(session, 'bob', { body: 'hi' });
    assert.equal(log.rows.length, 1);
    assert.equal(sent.id, String(log.rows[0]!.eventId));
    assert.equal(sent.to, 'bob@example.test');
    const stanza = session.sent[0]!;
    assert.equal(stanza.attrs.id, sent.stanzaId);
    assert.ok(stanza.getChild('request', NS.receipts));
    assert.deepEqual(
      sink.delivered.map((d) => [d.username, d.event.id]),
      [['alice', sent.id]],
    );
  });

  it('leaves nothing stored when the stanza cannot be sent', async () => {
    session.failSend = true;
    await assert.rejects(chat.send(session, 'bob', { body: 'lost' }), /socket closed/);
    assert.deepEqual(log.rows, []);
    assert.deepEqual(sink.delivered, []);
  });

  it('refuses a send past the backpressure bounds before storing or sending anything (429, then 503)', async () => {
    session.unacked = 2;
    await assert.rejects(chat.send(session, 'bob', { body: 'too many' }), {
      code: 'SEND_QUEUE_FULL',
      status: 429,
    });
    session.unacked = 1;
    session.budget.adjust(3);
    await assert.rejects(chat.send(session, 'bob', { body: 'backlog' }), {
      code: 'XMPP_BACKLOG',
      status: 503,
    });
    assert.deepEqual(log.rows, []);
    assert.deepEqual(sink.delivered, []);
    assert.deepEqual(session.sent, []);
    session.budget.adjust(-1);
    await chat.send(session, 'bob', { body: 'room again' });
    assert.equal(log.rows.length, 1);
    assert.equal(session.admitted, 0, 'an admission is given back once the stanza is sent');
  });

  it('answers a send with the copy the archive catch-up stored while the stanza went out', async () => {
    // A session that just logged in is still reading its archive, and the server archived the message
    // at once: the result reaches the chat handler before the send's own rows are written.
    session.whileSending = async (stanza) => {
      session.whileSending = undefined;
      const result = xml(
        'message',
        { to: session.fullJid },
        xml(
          'result',
          { xmlns: NS.mam, id: 'archive-1' },
          xml(
            'forwarded',
            { xmlns: NS.forward },
            xml('delay', { xmlns: NS.delay, stamp: '2026-12-06T10:00:00Z' }),
            stanza,
          ),
        ),
      );
      assert.equal(await chat.onMessage(session, result), true);
    };
    const sent = await chat.send(session, 'bob', { body: 'raced' });
    assert.equal(log.rows.length, 1, 'stored once');
    assert.equal(log.rows[0]!.stanzaId, 'archive-1');
    assert.equal(sent.id, String(log.rows[0]!.eventId));
    assert.equal(sent.timestamp, '2026-12-06T10:00:00.000Z');
    assert.deepEqual(
      sink.delivered.map((d) => [d.event.id, d.event.payload.body]),
      [[sent.id, 'raced']],
      'its event delivered once',
    );
  });

  it('times its sends and the live messages it stores for the backpressure clock, not archived copies', async () => {
    const timed: string[] = [];
    chat = new ChatService({
      messages: log,
      hub: { publish: async (_u, name, payload) => ({ name, payload }) },
      log: silent,
      domain: 'example.test',
      policy: ALLOW_ALL,
      transit: {
        sent: (id, to) => timed.push(`sent ${id} ${to}`),
        arrived: (id) => timed.push(`arrived ${id}`),
      },
    });
    const sent = await chat.send(session, 'bob', { body: 'hi' });
    const live = (id: string) =>
      xml(
        'message',
        { from: 'bob@example.test/r', to: session.fullJid, type: 'chat', id },
        xml('body', {}, 'yo'),
      );
    await chat.onMessage(session, live('b1'));
    await chat.onMessage(
      session,
      xml(
        'message',
        { to: session.fullJid },
        xml('result', { xmlns: NS.mam, id: 'a9' }, xml('forwarded', { xmlns: NS.forward }, live('b2'))),
      ),
    );
    assert.deepEqual(timed, [`sent ${sent.stanzaId} bob@example.test`, 'arrived b1']);
  });

  it('gives the admission back when the send fails', async () => {
    session.failSend = true;
    await assert.rejects(chat.send(session, 'bob', { body: 'lost' }));
    assert.equal(session.admitted, 0);
  });

  it('marks a sent message delivered when the XEP-0184 receipt comes in, once', async () => {
    const sent = await chat.send(session, 'bob', { body: 'tick' });
    const receipt = xml(
      'message',
      { from: 'bob@example.test/phone', to: session.fullJid },
      xml('received', { xmlns: NS.receipts, id: sent.stanzaId }),
    );
    assert.equal(await chat.onMessage(session, receipt), true);
    assert.equal(await chat.onMessage(session, receipt), true);
    assert.ok(log.rows[0]!.deliveredAt);
    const receipts = sink.delivered.filter((d) => d.event.name === EVENT_NAMES.receipt);
    assert.equal(receipts.length, 1);
    assert.equal(receipts[0]!.event.payload.messageId, sent.id);
  });

  it('stores an incoming message once (live and as a carbon copy), acknowledges it, and marks it read', async () => {
    const incoming = xml(
      'message',
      { from: 'bob@example.test/phone', to: session.fullJid, type: 'chat', id: 'b1' },
      xml('body', {}, 'hello'),
      xml('request', { xmlns: NS.receipts }),
    );
    await chat.onMessage(session, incoming);
    await chat.onMessage(session, incoming);
    assert.equal(log.rows.length, 1);
    const acks = session.sent.filter((s) => s.getChild('received', NS.receipts));
    assert.equal(acks.length, 2, 'a receipt answers each copy the server sent');
    assert.deepEqual(await chat.unread(session), {
      total: 1,
      contacts: [{ jid: 'bob@example.test', count: 1 }],
    });
    assert.deepEqual(await chat.markDisplayed(session, 'bob', 'b1'), { marked: 1 });
    assert.deepEqual(await chat.unread(session), { total: 0, contacts: [] });
    assert.equal(published.at(-1)?.payload.type, 'read');
  });
});
