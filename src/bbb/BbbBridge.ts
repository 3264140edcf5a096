import type { Log } from '../log.js';
import type { SecretBox } from '../crypto/SecretBox.js';
import { checkCallbackUrl, type AddressPolicy } from '../callbacks/ssrf.js';
import { PUBLIC_CHAT_ID, obj, str, type BbbEnvelope, type HandledName } from './envelopes.js';
import type { Forwarder } from './Forwarder.js';
import type { MeetingRegistry } from './MeetingRegistry.js';
import type { Meeting, MeetingStore } from './MeetingStore.js';
import { looksInternal, roomLocalpart } from './meetingIds.js';
import type { RoomMirror } from './RoomMirror.js';

export interface StartChat {
  apiVersion: 1 | 2;
  meetingId: string;
  chatUser: string;
  callback?: { uri: string; secret: string; id?: string };
}

export interface BridgeDeps {
  store: MeetingStore;
  registry: MeetingRegistry;
  forwarder: Forwarder;
  box: Pick<SecretBox, 'seal'>;
  policy: AddressPolicy;
  log: Log;
  /** undefined without XMPP_COMPONENT_SECRET: no room mirroring */
  mirror?: RoomMirror;
  roomName: string;
  mucService: string;
}

/** The chat was not started (or has ended): BBB-Chat's 404. */
export class UnknownChat extends Error {
  override readonly name = 'UnknownChat';
}

/**
 * The bridge's state machine: chats start and end (API or meeting end), BBB events update who is in
 * the meeting and carry public chat messages to the callback and the room. Handlers are looked up by
 * message name; the Redis link calls them one at a time, in arrival order.
 */
export class BbbBridge {
  constructor(private readonly deps: BridgeDeps) {}

  async load(): Promise<Meeting[]> {
    const live = await this.deps.store.active();
    for (const m of live) this.deps.registry.add(m);
    return live;
  }

  /** 'exists' when a live chat already has this id. A refused callback URI throws CallbackUrlError. */
  async startChat(s: StartChat): Promise<'started' | 'exists'> {
    if (this.deps.registry.find(s.meetingId)) return 'exists';
    if (s.callback) await checkCallbackUrl(s.callback.uri, this.deps.policy);
    const internal = looksInternal(s.meetingId);
    const m = await this.deps.store.insert({
      registeredId: s.meetingId,
      internalId: internal ? s.meetingId : undefined,
      externalId: internal ? undefined : s.meetingId,
      apiVersion: s.apiVersion,
      chatUser: s.chatUser,
      roomJid: `${roomLocalpart(this.deps.roomName, s.meetingId)}@${this.deps.mucService}`,
      callback: s.callback && {
        uri: s.callback.uri,
        secretEnc: this.deps.box.seal(s.callback.secret),
        id: s.callback.id,
      },
    });
    if (!m) return 'exists';
    this.deps.registry.add(m);
    await this.deps.mirror
      ?.open(m)
      .catch((err: unknown) => this.deps.log.warn({ err, room: m.roomJid }, 'meeting room not opened'));
    return 'started';
  }

  async endChat(meetingId: string, reason = 'endChat'): Promise<boolean> {
    const m = this.deps.registry.find(meetingId);
    if (!m) return false;
    await this.#end(m, reason);
    return true;
  }

  running(): string[] {
    return this.deps.registry.all().map((m) => m.registeredId);
  }

  /** sendChatMessage / sendMessage: into BBB, and shown in the room as the bridge's message. */
  async send(meetingId: string, userName: string, message: string): Promise<void> {
    const m = this.deps.registry.find(meetingId);
    if (!m) throw new UnknownChat(`Chat ${meetingId} was not found`);
    await this.deps.forwarder.fromApi(m, { userName, message });
    this.deps.mirror?.say(m, `${userName}: ${message}`);
  }

  /** A room message from an XMPP or REST user. */
  async fromRoom(m: Meeting, msg: { nick: string; body: string; source: string }): Promise<void> {
    await this.deps.forwarder.fromRoom(m, msg);
  }

  async handle(name: HandledName, msg: BbbEnvelope): Promise<void> {
    const body = msg.core.body;
    const meetingId = str(msg.core.header.meetingId) ?? str(body.meetingId);
    const found = meetingId ? this.deps.registry.forEvent(meetingId) : undefined;
    if (!found) return; // not a bridged meeting: the common case on a busy BBB server
    if (found.bound) await this.deps.store.bindInternal(found.meeting.id, meetingId!);
    await this.#handlers[name](found.meeting, msg);
  }

  readonly #handlers: Record<HandledName, (m: Meeting, msg: BbbEnvelope) => Promise<void>> = {
    UserJoinedMeetingEvtMsg: (m, msg) => this.#joined(m, msg.core.body),
    UserLeftMeetingEvtMsg: (m, msg) => this.#left(m, msg.core.body),
    GroupChatMessageBroadcastEvtMsg: (m, msg) => this.#chat(m, msg.core.body),
    // Ended is the meeting's end; Destroyed is BBB's final clean-up (whichever comes first ends the chat).
    MeetingEndedEvtMsg: (m) => this.#end(m, 'MeetingEndedEvtMsg'),
    MeetingDestroyedEvtMsg: (m) => this.#end(m, 'MeetingDestroyedEvtMsg'),
    ClearPublicChatHistoryPubMsg: async (m, msg) => {
      if (str(msg.core.body.chatId) !== PUBLIC_CHAT_ID) return;
      await this.deps.forwarder.clearChat(
        m,
        `clear:${msg.envelope.timestamp}:${str(msg.core.header.userId) ?? ''}`,
      );
    },
  };

  /** The bridge user is matched by display name as BBB-Chat did, or by external user id. */
  async #joined(m: Meeting, body: Record<string, unknown>): Promise<void> {
    const userId = str(body.intId);
    const name = str(body.name) ?? '';
    if (!userId) return;
    if (name === m.chatUser || str(body.extId) === m.chatUser) {
      m.bridgeUserId = userId;
      await this.deps.store.setBridgeUser(m.id, userId);
      return;
    }
    await this.deps.store.participantJoined(m.id, { userId, name });
    this.deps.mirror?.join(m, { userId, name });
  }

  async #left(m: Meeting, body: Record<string, unknown>): Promise<void> {
    const userId = str(body.intId);
    if (!userId) return;
    if (userId === m.bridgeUserId) {
      m.bridgeUserId = undefined;
      await this.deps.store.setBridgeUser(m.id, null);
      return;
    }
    await this.deps.store.participantLeft(m.id, userId);
    this.deps.mirror?.leave(m, userId);
  }

  async #chat(m: Meeting, body: Record<string, unknown>): Promise<void> {
    if (str(body.chatId) !== PUBLIC_CHAT_ID) return;
    const msg = obj(body.msg);
    const sender = obj(msg.sender);
    const [id, senderId, senderName, message] = [
      str(msg.id),
      str(sender.id),
      str(sender.name) ?? '',
      str(msg.message),
    ];
    if (!id || !senderId || message === undefined) return;
    if (this.deps.forwarder.isEcho(m, senderId, senderName, message)) return;
    const stored = await this.deps.forwarder.fromBbb(m, { id, senderId, senderName, message });
    if (stored) this.deps.mirror?.post(m, { userId: senderId, name: senderName }, message);
  }

  async #end(m: Meeting, reason: string): Promise<void> {
    this.deps.registry.remove(m);
    await this.deps.store.end(m.id, reason);
    await this.deps.mirror?.close(m, 'The BigBlueButton meeting has ended');
  }
}
