import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { BridgeError } from '../errors/BridgeError.js';
import { fromStanzaError } from '../errors/fromStanzaError.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { parseJid } from '../xmpp/jid.js';
import { buildMessage } from '../xmpp/stanzas/message.js';
import { bodyForFiles, oobElements, withAttachmentData, type MessageFiles } from '../attachments/index.js';
import { privatePayload } from './events.js';
import type { RoomAddress } from './names.js';
import type { JoinedRoom, RoomRegistry } from './RoomState.js';
import type { MessageWriter } from '../messages/MessageLog.js';
import type { SendPolicy } from '../moderation/ports.js';
import { directInvite, discoInfo, mediatedInvite, subjectMessage } from '../xmpp/muc/stanzas.js';

/** A post is acknowledged once the room's copy of it is stored; a room that does not echo gets a 202. */
const ECHO_TIMEOUT_MS = 10_000;

/** `subject` beside a body is part of the message, not a subject change (XEP-0045 §8.1). */
export interface MessageInput {
  body?: string;
  data?: unknown;
  subject?: string;
  /** uploaded file ids to attach (room posts) */ fileIds?: string[];
}
/** `id` is the event id, `stanzaId` the message id, `archiveId` the room's XEP-0359 id (chat's names). */
export interface Posted {
  room: string;
  stanzaId: string;
  stored: boolean;
  id?: string;
  archiveId?: string;
  timestamp?: string;
}

export interface RoomSenderDeps {
  registry: RoomRegistry;
  messages: Pick<MessageWriter, 'append'>;
  domain: string;
  /** moderation's: a muted or disabled user posts, invites and changes subjects nowhere */
  policy: SendPolicy;
  /** resolves the files a post names (the attachments feature's port) */
  files?: MessageFiles;
  /** RoomService.joined: membership stays with the service that joins and leaves */
  joined(session: UserSession, addr: RoomAddress): Promise<JoinedRoom>;
}

/**
 * What a session sends into rooms: posts, subject changes, private messages and invitations, each
 * subject to the moderation policy and, where the room may refuse it, answered only once the room
 * has had its say (its echo, or a round trip that would have carried the refusal).
 */
export class RoomSender {
  constructor(private readonly deps: RoomSenderDeps) {}

  /** Posts and waits for the room's copy, which is stored (with the room's stanza-id) before this answers. */
  async post(session: UserSession, addr: RoomAddress, input: MessageInput): Promise<Posted> {
    await this.deps.policy.assertMaySend(session.username);
    const room = await this.deps.joined(session, addr);
    // Backpressure: a refused post is neither sent nor awaited; an admitted one holds its place until sent.
    const release = session.admitSend();
    try {
      return await this.#post(session, room, input, release);
    } finally {
      release();
    }
  }

  async #post(
    session: UserSession,
    room: JoinedRoom,
    input: MessageInput,
    sent: () => void,
  ): Promise<Posted> {
    const messageId = randomUUID();
    const echo = this.deps.registry.of(session).waitFor<Posted>(
      (s) => {
        if (
          (s.kind !== 'stored' && s.kind !== 'messageError') ||
          s.room !== room.jid ||
          s.messageId !== messageId
        )
          return undefined;
        if (s.kind === 'messageError') return { error: fromStanzaError(s.error, `posting to ${room.jid}`) };
        return {
          value: {
            room: room.jid,
            stanzaId: messageId,
            stored: s.eventId !== undefined,
            id: s.eventId,
            archiveId: s.stanzaId,
            timestamp: s.timestamp,
          },
        };
      },
      ECHO_TIMEOUT_MS,
      () => ({ room: room.jid, stanzaId: messageId, stored: false }),
    );
    const files =
      input.fileIds && this.deps.files
        ? await this.deps.files.attach(session.username, input.fileIds, {
            kind: 'room',
            jid: room.jid,
          })
        : [];
    const stanza = buildMessage({
      to: room.jid,
      type: 'groupchat',
      subject: input.subject,
      id: messageId,
      ...(files.length
        ? { body: input.body ?? bodyForFiles(files), data: withAttachmentData(input.data, files) }
        : { body: input.body, data: input.data }),
    });
    for (const oob of oobElements(files)) stanza.append(oob);
    await session.send(stanza).finally(sent);
    return echo;
  }

  async setSubject(session: UserSession, addr: RoomAddress, subject: string): Promise<void> {
    await this.changeSubject(session, await this.deps.joined(session, addr), subject);
  }

  /** Takes the room itself: a new room's subject is set while its join is still pending, which `joined` would wait for. */
  async changeSubject(session: UserSession, room: JoinedRoom, subject: string): Promise<void> {
    await this.deps.policy.assertMaySend(session.username);
    const msg = subjectMessage(room.jid, subject);
    const done = this.deps.registry.of(session).waitFor<void>(
      (s) =>
        s.room !== room.jid
          ? undefined
          : s.kind === 'subject'
            ? { value: undefined }
            : s.kind === 'messageError' && s.messageId === msg.attrs.id
              ? { error: fromStanzaError(s.error, `changing the subject of ${room.jid}`) }
              : undefined,
      ECHO_TIMEOUT_MS,
      () => undefined,
    );
    await session.send(msg);
    await done;
  }

  /** A private message to one occupant (§7.5), stored as the user's own before it is acknowledged. */
  async sendPrivate(session: UserSession, addr: RoomAddress, nick: string, input: MessageInput) {
    await this.deps.policy.assertMaySend(session.username);
    const room = await this.deps.joined(session, addr);
    const messageId = randomUUID();
    const to = `${room.jid}/${nick}`;
    const msg = buildMessage({ to, type: 'chat', body: input.body, data: input.data, id: messageId });
    msg.append(xml('x', { xmlns: NS.mucUser })); // marks it as a MUC private message for the recipient's client
    const release = session.admitSend(); // backpressure, before anything is sent or stored
    try {
      await this.#sendChecked(session, room.jid, msg, `private message to ${nick} in ${room.jid}`, release);
    } finally {
      release();
    }
    const from = `${room.jid}/${room.nick}`;
    const event = await this.deps.messages.append(
      {
        owner: session.username,
        kind: 'chat',
        direction: 'out',
        peer: room.jid,
        nick,
        fromJid: from,
        toJid: to,
        body: input.body,
        data: input.data,
        messageId,
      },
      {
        name: EVENT_NAMES.muc,
        payload: privatePayload({
          room: room.jid,
          nick,
          from,
          to,
          body: input.body,
          data: input.data,
          messageId,
          direction: 'out',
        }),
      },
    );
    return {
      room: room.jid,
      nick,
      stanzaId: messageId,
      id: event?.id,
      timestamp: event?.payload.timestamp as string | undefined,
    };
  }

  /** Mediated (through the room, which adds the password) or XEP-0249 direct invitation. */
  async invite(
    session: UserSession,
    addr: RoomAddress,
    inviteeRaw: string,
    opts: { reason?: string; password?: string; direct?: boolean },
  ): Promise<string> {
    requireOnline(session);
    const invitee = parseJid(inviteeRaw, this.deps.domain, 'invitee JID');
    await this.deps.policy.assertMaySend(session.username);
    if (opts.direct) {
      const password = opts.password ?? this.deps.registry.of(session).rooms.get(addr.jid)?.password;
      await session.send(directInvite(addr.jid, invitee.full, { reason: opts.reason, password }));
    } else {
      await this.#sendChecked(
        session,
        addr.jid,
        mediatedInvite(addr.jid, invitee.full, opts.reason),
        `invitation of ${invitee.full} to ${addr.jid}`,
      );
    }
    return invitee.full;
  }

  /**
   * Sends a stanza the room answers only when it refuses it. The room handles a sender's stanzas in
   * order, so once a disco#info round trip is back, a refusal would already have arrived.
   */
  async #sendChecked(
    session: UserSession,
    roomJid: string,
    stanza: Element,
    what: string,
    sent: () => void = () => undefined,
  ): Promise<void> {
    const id = stanza.attrs.id as string;
    const refusal = this.deps.registry
      .of(session)
      .watch((s) =>
        s.kind === 'messageError' && s.room === roomJid && s.messageId === id
          ? { value: s.error }
          : undefined,
      );
    try {
      await session.send(stanza).finally(sent);
      await session.iq(discoInfo(roomJid), 10_000, `${what} (round trip)`).catch(() => undefined);
      if (refusal.value) throw fromStanzaError(refusal.value, what);
    } finally {
      refusal.stop();
    }
  }
}

export function requireOnline(session: UserSession): void {
  if (!session.isOnline)
    throw new BridgeError('XMPP_UNAVAILABLE', 'the XMPP session is reconnecting; try again shortly', {
      retryAfter: 2,
    });
}
