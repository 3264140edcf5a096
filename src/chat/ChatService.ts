import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import type { Log } from '../log.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { parseJid, bareJid, type Jid } from '../xmpp/jid.js';
import { buildMessage } from '../xmpp/stanzas/message.js';
import { classify, unwrap, type ChatState, type Classified, type Unwrapped } from './inbound.js';
import type { MessageLog } from '../messages/MessageLog.js';
import type { Receipt } from '../messages/types.js';
import { attachmentsField, oobElements, readAttachments, type Attachment } from '../attachments/index.js';
import type { SendPolicy } from '../moderation/ports.js';
import type { Defer } from '../xmpp/StanzaRouter.js';

/** What chat needs of a user's XMPP session (UserSession fits; unit tests pass a small fake). */
export type ChatSession = Pick<
  UserSession,
  'username' | 'bareJid' | 'fullJid' | 'isOnline' | 'send' | 'iq' | 'admitSend'
>;

export interface SendInput {
  body: string;
  data?: unknown;
  attachments?: Attachment[];
}
export interface SentMessage {
  id: string;
  stanzaId: string;
  to: string;
  timestamp: string;
}

/**
 * 1:1 chat over a user's session: sending (stored before it is acknowledged), receiving (live,
 * carbons, archive catch-up — each message once), chat states, receipts and read markers.
 */
export class ChatService {
  constructor(
    private readonly deps: {
      messages: Pick<
        MessageLog,
        'append' | 'receipt' | 'markRead' | 'findIncoming' | 'findOutgoing' | 'unread'
      >;
      hub: Pick<EventHub, 'publish'>;
      log: Log;
      domain: string;
      policy: SendPolicy;
      /**
       * The sender's session when it lives on this instance, is the only client of its account and a
       * receipt can be recorded for it directly (PARLEY_LOCAL_RECEIPTS); otherwise the receipt is a stanza.
       */
      localSender?: (fullJid: string) => ChatSession | undefined;
      /**
       * Times messages between two users of this instance, send to stored (backpressure: TransitDelay);
       * `sent` records only those whose recipient has a session here.
       */
      transit?: { sent(id: string, toBare: string): void; arrived(id: string): unknown };
    },
  ) {}

  async send(session: ChatSession, toRaw: string, input: SendInput): Promise<SentMessage> {
    const to = parseJid(toRaw, this.deps.domain, 'recipient JID');
    await this.deps.policy.assertMaySend(session.username);
    // Backpressure before anything is stored: a refused message leaves no row and no event.
    const release = session.admitSend();
    try {
      return await this.#send(session, to, input, release);
    } finally {
      release();
    }
  }

  /** `sent` gives the admission back once the stanza is counted by the connection itself. */
  async #send(session: ChatSession, to: Jid, input: SendInput, sent: () => void): Promise<SentMessage> {
    const stanzaId = randomUUID();
    const stanza = buildMessage({
      to: to.full,
      type: 'chat',
      body: input.body,
      data: input.data,
      id: stanzaId,
      trackable: true,
    });
    for (const oob of oobElements(input.attachments ?? [])) stanza.append(oob);
    const stored = await this.deps.messages.append(
      {
        owner: session.username,
        kind: 'chat',
        direction: 'out',
        peer: to.bare,
        fromJid: session.fullJid,
        toJid: to.full,
        body: input.body,
        data: input.data,
        messageId: stanzaId,
      },
      {
        name: EVENT_NAMES.chat,
        payload: {
          type: 'chat',
          direction: 'out',
          from: session.fullJid,
          to: to.full,
          body: input.body,
          data: input.data ?? null,
          stanzaId,
          ...attachmentsField(input.attachments ?? []),
        },
      },
      // sent first, stored with the other writes of its turn before the 201: a stanza that cannot be
      // sent leaves no row behind
      {
        transmit: () => {
          this.deps.transit?.sent(stanzaId, to.bare);
          return session.send(stanza).finally(sent);
        },
      },
    );
    if (stored) return { id: stored.id!, stanzaId, to: to.full, timestamp: String(stored.payload.timestamp) };
    // The id is fresh, so the copy already stored is this very message, come back by another path
    // between the stanza going out and its rows being written: the archive catch-up of a session that
    // just logged in reads it back (ejabberd archives at once). It is stored and its event delivered.
    const copy = await this.deps.messages.findOutgoing(session.username, to.bare, stanzaId);
    if (!copy) throw new BridgeError('CONFLICT', 'a message with this id was already stored');
    return { id: copy.eventId, stanzaId, to: to.full, timestamp: copy.sentAt.toISOString() };
  }

  async sendState(session: ChatSession, toRaw: string, state: ChatState): Promise<void> {
    const to = parseJid(toRaw, this.deps.domain, 'recipient JID');
    await this.deps.policy.assertMaySend(session.username);
    // Chat states are ephemeral: ask the server not to archive them (XEP-0334).
    await session.send(
      xml(
        'message',
        { type: 'chat', to: to.full, id: randomUUID() },
        xml(state, { xmlns: NS.chatStates }),
        xml('no-store', { xmlns: NS.hints }),
      ),
    );
  }

  /** XEP-0333 displayed for a received message (by event id or XMPP id) and all before it. */
  async markDisplayed(session: ChatSession, peerRaw: string, ref: string): Promise<{ marked: number }> {
    const peer = parseJid(peerRaw, this.deps.domain, 'contact JID');
    const msg = await this.deps.messages.findIncoming(session.username, peer.bare, ref);
    if (!msg) throw new BridgeError('NOT_FOUND', `no message ${ref} from ${peer.bare}`);
    if (msg.messageId) {
      await session.send(
        xml(
          'message',
          { type: 'chat', to: peer.bare, id: randomUUID() },
          xml('displayed', { xmlns: NS.markers, id: msg.messageId }),
        ),
      );
    }
    const marked = await this.deps.messages.markRead(session.username, peer.bare, msg.rowId);
    if (marked > 0) {
      // Other tabs of the reader clear their badges from this.
      await this.deps.hub.publish(
        session.username,
        EVENT_NAMES.receipt,
        {
          type: 'read',
          status: 'read',
          from: session.bareJid,
          peer: peer.bare,
          messageId: msg.eventId,
          stanzaId: msg.messageId,
        },
        { durable: true },
      );
    }
    return { marked };
  }

  async unread(session: ChatSession): Promise<{ total: number; contacts: { jid: string; count: number }[] }> {
    const contacts = await this.deps.messages.unread(session.username);
    return { total: contacts.reduce((n, c) => n + c.count, 0), contacts };
  }

  async enableCarbons(session: ChatSession): Promise<void> {
    await session.iq(xml('iq', { type: 'set' }, xml('enable', { xmlns: NS.carbons })), 10_000, 'carbons');
  }

  /**
   * Stanza handler: true when the message was a 1:1 message this feature handled. With `defer` (more
   * stanzas wait in the session's lane) a message's copy is queued in order and the rest is deferred.
   */
  async onMessage(session: ChatSession, stanza: Element, defer?: Defer): Promise<boolean> {
    const u = unwrap(stanza, session.bareJid);
    if (!u) return false;
    const c = classify(u.msg);
    if (c.kind === 'other') return false;
    await this.#handle(session, u, c, defer);
    return true;
  }

  async #handle(
    session: ChatSession,
    u: Unwrapped,
    c: Exclude<Classified, { kind: 'other' }>,
    defer?: Defer,
  ): Promise<void> {
    const from = String(u.msg.attrs.from ?? session.bareJid);
    const to = String(u.msg.attrs.to ?? session.bareJid);
    const peerJid = u.direction === 'in' ? from : to;
    const type = String(u.msg.attrs.type ?? 'normal');
    switch (c.kind) {
      case 'state':
        if (u.direction === 'in' && !u.carbon && !u.archiveId) {
          await this.deps.hub.publish(
            session.username,
            EVENT_NAMES.chat,
            { type, to, from, state: c.state },
            { durable: false },
          );
        }
        return;
      case 'receipt':
        if (u.direction === 'in') await this.#receipt(session, bareJid(from), from, c.ref, c.status);
        return;
      case 'notify':
        await this.deps.hub.publish(
          session.username,
          EVENT_NAMES.notify,
          { type: 'notify', to, from, data: c.data },
          { durable: true },
        );
        return;
      case 'message': {
        const rest = this.#message(
          session,
          u,
          { type, from, to, peer: bareJid(peerJid), body: c.body, data: c.data, state: c.state },
          defer !== undefined,
        );
        if (defer) defer(rest);
        else await rest;
      }
    }
  }

  async #message(
    session: ChatSession,
    u: Unwrapped,
    m: {
      type: string;
      from: string;
      to: string;
      peer: string;
      body: string;
      data: unknown;
      state?: ChatState;
    },
    inOrder = false,
  ): Promise<void> {
    const stanzaId = u.msg.attrs.id as string | undefined;
    const timestamp = u.sentAt?.toISOString();
    // XEP-0184: acknowledge what reached this client; another resource answers for its own carbons.
    const wantsReceipt =
      u.direction === 'in' &&
      !u.carbon &&
      stanzaId !== undefined &&
      !!u.msg.getChild('request', NS.receipts) &&
      bareJid(m.from) !== session.bareJid;
    // Live messages only: one caught up from the archive may predate the sender's current session.
    // A sender with a session here has its receipt recorded with this copy (in its statement, alone).
    const sender = wantsReceipt && !u.fromArchive ? this.deps.localSender?.(m.from) : undefined;
    await this.deps.messages.append(
      {
        owner: session.username,
        kind: m.type === 'chat' ? 'chat' : 'normal',
        direction: u.direction,
        peer: m.peer,
        fromJid: m.from,
        toJid: m.to,
        body: m.body,
        data: m.data === null ? undefined : m.data,
        messageId: stanzaId,
        stanzaId: u.archiveId,
        sentAt: u.sentAt,
      },
      {
        name: EVENT_NAMES.chat,
        payload: {
          type: m.type,
          direction: u.direction,
          from: m.from,
          to: m.to,
          body: m.body,
          data: m.data,
          stanzaId: stanzaId ?? null,
          ...(u.archiveId ? { archiveId: u.archiveId } : {}),
          ...(u.carbon ? { carbon: true } : {}),
          ...(m.state ? { state: m.state } : {}),
          ...(timestamp ? { timestamp } : {}),
          ...attachmentsField(readAttachments(u.msg, m.data)),
        },
      },
      {
        inOrder,
        ...(sender && stanzaId
          ? { answers: this.#receiptOf(sender, session.bareJid, session.fullJid, stanzaId, 'delivered') }
          : {}),
      },
    );
    if (u.direction === 'in' && !u.carbon && !u.fromArchive && stanzaId) this.deps.transit?.arrived(stanzaId);
    if (!wantsReceipt || sender) return;
    await session
      .send(
        xml(
          'message',
          { to: m.from, id: randomUUID() },
          xml('received', { xmlns: NS.receipts, id: stanzaId }),
        ),
      )
      .catch((err) => this.deps.log.debug({ err }, 'receipt not sent'));
  }

  async #receipt(
    session: ChatSession,
    peer: string,
    from: string,
    ref: string,
    status: 'delivered' | 'displayed',
  ): Promise<void> {
    await this.deps.messages.receipt(this.#receiptOf(session, peer, from, ref, status));
  }

  #receiptOf(
    session: ChatSession,
    peer: string,
    from: string,
    ref: string,
    status: 'delivered' | 'displayed',
  ): Receipt {
    return { owner: session.username, peer, messageId: ref, status, from, name: EVENT_NAMES.receipt };
  }
}
