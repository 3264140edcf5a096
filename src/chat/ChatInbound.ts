import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { EVENT_NAMES } from '../sse/events.js';
import { NS } from '../xmpp/ns.js';
import { bareJid } from '../xmpp/jid.js';
import { classify, unwrap, type ChatState, type Classified, type Unwrapped } from './inbound.js';
import type { Receipt } from '../messages/types.js';
import { attachmentsField, readAttachments } from '../attachments/index.js';
import type { Defer } from '../xmpp/StanzaRouter.js';
import type { ChatDeps, ChatSession } from './chatTypes.js';

/**
 * 1:1 chat as it reaches a user's session: messages (live, carbons, archive catch-up — each stored once,
 * with its receipt answered), chat states, receipts and read markers from the other side.
 */
export class ChatInbound {
  constructor(private readonly deps: ChatDeps) {}

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
