import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { BridgeError } from '../errors/BridgeError.js';
import { EVENT_NAMES } from '../sse/events.js';
import { NS } from '../xmpp/ns.js';
import { parseJid, type Jid } from '../xmpp/jid.js';
import { buildMessage } from '../xmpp/stanzas/message.js';
import type { ChatState } from './inbound.js';
import { attachmentsField, oobElements, type Attachment } from '../attachments/index.js';
import type { Defer } from '../xmpp/StanzaRouter.js';
import { ChatInbound } from './ChatInbound.js';
import type { ChatDeps, ChatSession } from './chatTypes.js';

export type { ChatSession } from './chatTypes.js';

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
 * 1:1 chat over a user's session: sending (stored before it is acknowledged), chat states, read markers,
 * unread counts; what reaches the session is ChatInbound's (live, carbons, archive catch-up, receipts).
 */
export class ChatService {
  readonly #inbound: ChatInbound;

  constructor(private readonly deps: ChatDeps) {
    this.#inbound = new ChatInbound(deps);
  }

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
  onMessage(session: ChatSession, stanza: Element, defer?: Defer): Promise<boolean> {
    return this.#inbound.onMessage(session, stanza, defer);
  }
}
