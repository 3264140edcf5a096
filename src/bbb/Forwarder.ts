import type { CallbackOutbox, NewCallback } from '../callbacks/CallbackOutbox.js';
import type { BbbLink } from './BbbLink.js';
import { clearCallback, messageCallback } from './bbbCallbacks.js';
import { EchoGuard } from './EchoGuard.js';
import { sendGroupChatMessageFromApiSysPubMsg, sendGroupChatMessageMsg } from './envelopes.js';
import type { Meeting, MeetingStore, NewMessage } from './MeetingStore.js';

/** Why a message could not go into BBB; the API answers 404 as BBB-Chat did. */
export class NotPostable extends Error {
  override readonly name = 'NotPostable';
}

export interface ForwarderDeps {
  store: MeetingStore;
  outbox: CallbackOutbox;
  link: Pick<BbbLink, 'publish'>;
  /** wake the callback dispatcher after a commit */
  nudge: () => void;
  version: 2 | 3;
}

/**
 * Every forwarded message is stored (bbb_messages) together with its callback (the outbox) in one
 * transaction, before anything else happens to it: once that commits, the callback will be delivered
 * even if the gateway dies the next instant. Posting into BBB follows the configured BBB version.
 */
export class Forwarder {
  readonly echoes = new EchoGuard();
  constructor(private readonly deps: ForwarderDeps) {}

  /** A public chat message from BBB; false when it was already stored (the same broadcast twice). */
  async fromBbb(
    m: Meeting,
    msg: { id: string; senderId: string; senderName: string; message: string },
  ): Promise<boolean> {
    return this.#store(
      m,
      {
        origin: 'bbb',
        senderId: msg.senderId,
        senderName: msg.senderName,
        message: msg.message,
        bbbMessageId: msg.id,
      },
      messageCallback(m, { userName: msg.senderName, message: msg.message }, `bbb-message:${msg.id}`),
    );
  }

  /** A room message from an XMPP or REST user: to the callback, and into BBB. */
  async fromRoom(m: Meeting, msg: { nick: string; body: string; source: string }): Promise<void> {
    await this.#store(
      m,
      { origin: 'xmpp', senderId: `${m.roomJid}/${msg.nick}`, senderName: msg.nick, message: msg.body },
      messageCallback(m, { userName: msg.nick, message: msg.body }, `room:${msg.source}`),
    );
    await this.postIntoBbb(m, msg.nick, msg.body);
  }

  /** sendChatMessage / sendMessage: into BBB only (the caller is the other side of the bridge), then into history. */
  async fromApi(m: Meeting, msg: { userName: string; message: string }): Promise<void> {
    await this.postIntoBbb(m, msg.userName, msg.message);
    await this.#store(m, { origin: 'api', senderName: msg.userName, message: msg.message }, undefined);
  }

  /** The client's ClearPublicChatHistoryPubMsg → clearChat callback (v2 chats). */
  async clearChat(m: Meeting, source: string): Promise<void> {
    const cb = clearCallback(m, source);
    if (!cb) return;
    await this.deps.store.transaction((tx) => this.deps.outbox.enqueue(tx, cb));
    this.deps.nudge();
  }

  assertPostable(m: Meeting): void {
    if (this.deps.version === 2 && !m.bridgeUserId)
      throw new NotPostable(`the bridge user "${m.chatUser}" has not joined the meeting`);
    if (!m.internalId)
      throw new NotPostable('the meeting has not started in BigBlueButton yet (no event seen for it)');
  }

  /**
   * 2.x: as the bridge user, the sender's name in the text ("{name}: {message}"), as a BBB client would;
   * 3.x: as bbb-web's sendChatMessage API, under the sender's own name.
   */
  async postIntoBbb(m: Meeting, senderName: string, message: string): Promise<void> {
    this.assertPostable(m);
    const now = Date.now();
    const meetingId = m.internalId!;
    if (this.deps.version === 3) {
      this.echoes.remember(m.id, senderName, message);
      await this.deps.link.publish(
        sendGroupChatMessageFromApiSysPubMsg({ meetingId, userName: senderName, message, now }),
      );
    } else {
      await this.deps.link.publish(
        sendGroupChatMessageMsg({
          meetingId,
          userId: m.bridgeUserId!,
          message: `${senderName}: ${message}`,
          now,
        }),
      );
    }
  }

  /** Parley's own message coming back as a broadcast: from the bridge user (2.x), or remembered (3.x). */
  isEcho(m: Meeting, senderId: string, senderName: string, message: string): boolean {
    return (
      (!!m.bridgeUserId && senderId === m.bridgeUserId) || this.echoes.consume(m.id, senderName, message)
    );
  }

  async #store(m: Meeting, row: Omit<NewMessage, 'meeting'>, cb: NewCallback | undefined): Promise<boolean> {
    const stored = await this.deps.store.transaction(async (tx) => {
      const id = await this.deps.store.insertMessage(tx, { ...row, meeting: m.id });
      if (id && cb) await this.deps.outbox.enqueue(tx, cb);
      return !!id;
    });
    if (stored && cb) this.deps.nudge();
    return stored;
  }
}
