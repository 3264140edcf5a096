import { BridgeError } from '../errors/BridgeError.js';
import { hashToken, newToken } from '../crypto/tokens.js';
import type { ComponentConnection } from '../xmpp/component/createComponent.js';
import type { ChatRooms } from './ChatRooms.js';
import type { Dispatcher } from './Dispatcher.js';
import { newRequestId } from './routing.js';
import type { QueueNotifier } from './QueueNotifier.js';
import { IN_CHAT, WAITING, type RequestRow, type RequestStore } from './RequestStore.js';
import type { WorkgroupStore } from './WorkgroupStore.js';

export interface AskInput {
  workgroup: string;
  userId: string;
  email: string;
  question: string;
  nickname?: string;
}

export interface AskServiceDeps {
  dispatcher: Dispatcher;
  requests: RequestStore;
  workgroups: WorkgroupStore;
  rooms: ChatRooms;
  notifier: QueueNotifier;
  component: ComponentConnection;
  serviceDomain: string;
}

/**
 * The visitor side (ofchat's AskService) for people without an account: a request joins the queue at
 * once (202, no 180 s long poll) and the visitor follows it on a token-scoped event stream. In the
 * room they are a puppet occupant of the workgroup component (see ChatRooms).
 */
export class AskService {
  constructor(private readonly deps: AskServiceDeps) {}

  async ask(input: AskInput): Promise<{ request: RequestRow; token: string }> {
    await this.deps.workgroups.require(input.workgroup);
    this.#requireService();
    const token = newToken();
    const id = newRequestId();
    const metadata: Record<string, string> = {
      username: input.userId,
      email: input.email,
      question: input.question,
    };
    if (input.nickname) metadata.nickname = input.nickname;
    const request = await this.deps.dispatcher.join({
      id,
      workgroup: input.workgroup,
      kind: 'rest',
      userJid: this.deps.rooms.puppetBare(id),
      userId: input.userId,
      email: input.email,
      question: input.question,
      metadata,
      tokenHash: hashToken(token),
    });
    return { request, token };
  }

  /**
   * Changes go through the instance that holds the workgroup component (its timers and offers live there);
   * elsewhere — a standby instance, or while the XMPP server is away — they are refused with 503.
   */
  #requireService(): void {
    if (!this.deps.component.isOnline)
      throw new BridgeError(
        'XMPP_UNAVAILABLE',
        'the workgroup service is not connected to the XMPP server here; retry',
        { retryAfter: 5 },
      );
  }

  /**
   * Waits (up to `ms`) until an expert took the request and the room is open (`routed`), or the request
   * ended; the row as it then stands. Checked once a second, as ofchat's own long poll does.
   */
  async waitForRoom(r: RequestRow, ms: number, gone: () => boolean): Promise<RequestRow> {
    const until = Date.now() + ms;
    let fresh = r;
    for (;;) {
      fresh = (await this.deps.requests.get(r.id)) ?? fresh;
      if (fresh.status !== 'queued' && fresh.status !== 'offered' && fresh.status !== 'accepted')
        return fresh;
      const left = until - Date.now();
      if (left <= 0 || gone()) return fresh;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, left)));
    }
  }

  /** The request a visitor token (or, with the master secret, the visitor name) stands for. */
  async byToken(token: string): Promise<RequestRow | undefined> {
    return this.deps.requests.byToken(hashToken(token));
  }

  latestOf(userId: string): Promise<RequestRow | undefined> {
    return this.deps.requests.latestOf(userId);
  }

  /** ofchat's AskQueue fields (−1 when unknown) and Parley's own, correctly named. */
  async view(r: RequestRow) {
    const fresh = (await this.deps.requests.get(r.id)) ?? r;
    const e = WAITING.includes(fresh.status)
      ? await this.deps.notifier.estimate(fresh)
      : { position: 0, remainingTime: 0 };
    const waiting = e.position > 0; // position 0: it left the queue between the two reads
    const onDuty = (await this.deps.workgroups.agents(fresh.workgroup)).length;
    return {
      id: fresh.id,
      userID: fresh.userId,
      workgroup: fresh.workgroup,
      workgroupJID: `${fresh.workgroup}@${this.deps.serviceDomain}`,
      status: fresh.status,
      inQueue: waiting,
      available: onDuty > 0,
      queuePosition: waiting ? e.position : -1,
      queueRemainingTime: waiting ? e.remainingTime : -1,
      position: waiting ? e.position : null,
      remainingTime: waiting ? e.remainingTime : null,
      room: fresh.room ?? null,
      joined: fresh.visitorJoined,
      agent: fresh.agentJid ?? null,
      endReason: fresh.endReason ?? null,
      joinedAt: fresh.joinedAt.toISOString(),
      acceptedAt: fresh.acceptedAt?.toISOString() ?? null,
      endedAt: fresh.endedAt?.toISOString() ?? null,
    };
  }

  /** ofchat's "terminate assistance": leaves the room if there is one, else departs the queue. */
  async end(r: RequestRow): Promise<void> {
    this.#requireService();
    if (WAITING.includes(r.status) && (await this.deps.dispatcher.cancel(r.id))) return;
    const fresh = (await this.deps.requests.get(r.id)) ?? r;
    if (!IN_CHAT.includes(fresh.status)) return; // already over: nothing left to end
    await this.deps.rooms.leaveVisitor(fresh);
    await this.deps.dispatcher.chatEnded(fresh.id, 'visitor-left');
  }

  async join(r: RequestRow): Promise<{ room: string; nick: string }> {
    this.#requireService();
    const fresh = (await this.deps.requests.get(r.id)) ?? r;
    if (fresh.status !== 'routed') {
      throw new BridgeError(
        'CONFLICT',
        WAITING.includes(fresh.status) || fresh.status === 'accepted'
          ? 'no agent has taken this request yet; wait for the chatapi.ask offer event'
          : `this request is over (${fresh.status})`,
      );
    }
    return this.deps.rooms.joinVisitor(fresh);
  }

  async post(r: RequestRow, body: string, data?: unknown): Promise<{ room: string; messageId: string }> {
    this.#requireService();
    const fresh = (await this.deps.requests.get(r.id)) ?? r;
    if (fresh.status !== 'routed')
      throw new BridgeError('CONFLICT', `this request is not in a chat (${fresh.status})`);
    return this.deps.rooms.postAsVisitor(fresh, body, data);
  }
}
