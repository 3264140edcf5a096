import type { Log } from '../log.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { Clock } from './timers.js';
import type { ComponentConnection } from '../xmpp/component/createComponent.js';
import {
  averageWaitSeconds,
  changedPositions,
  estimateSeconds,
  msPerPosition,
  positions,
  queueStatus,
  type ServedRequest,
} from './queue.js';
import type { RequestRow, RequestStore } from './RequestStore.js';
import type { WorkgroupStore } from './WorkgroupStore.js';
import { departQueuePayload, updateQueuePayload, visitorKey, type VisitorAddress } from './events.js';
import {
  departMessage,
  notifyQueueDetailsPresence,
  notifyQueuePresence,
  queueStatusMessage,
  type DepartReason,
} from './xep0142.js';

/** Without history, one place in the queue is guessed to take a minute. */
const FALLBACK_MS_PER_POSITION = 60_000;
const HISTORY_WINDOW_MS = 24 * 3600_000;

export interface QueueEstimate {
  position: number;
  remainingTime: number;
}

export interface QueueNotifierDeps {
  requests: RequestStore;
  workgroups: WorkgroupStore;
  hub: EventHub;
  component: ComponentConnection;
  serviceDomain: string;
  clock: Clock;
  log: Log;
}

/**
 * Tells people where the queue stands: each waiting visitor whose place changed gets `update-queue`
 * (REST visitors, durable `chatapi.ask`) or a `queue-status` message (XMPP users); agents on duty get
 * `notify-queue` and `notify-queue-details` presence. Also says goodbye (`depart-queue`).
 */
export class QueueNotifier {
  /** position each waiting request was last told, per request id */
  readonly #told = new Map<string, number>();
  constructor(private readonly deps: QueueNotifierDeps) {}

  wgJid(workgroup: string): string {
    return `${workgroup}@${this.deps.serviceDomain}`;
  }

  address(r: RequestRow): VisitorAddress {
    return {
      workgroup: this.wgJid(r.workgroup),
      requestId: r.id,
      to: r.userJid,
      from: this.wgJid(r.workgroup),
    };
  }

  /** Where a waiting request stands now (position 0 and time 0 once it has left the queue). */
  async estimate(r: RequestRow): Promise<QueueEstimate> {
    // One count rather than the whole queue: every visitor's status and stream open asks for it.
    const position = await this.deps.requests.positionOf(r.id);
    if (position === undefined) return { position: 0, remainingTime: 0 };
    const perPosition = msPerPosition(await this.#history(r.workgroup), FALLBACK_MS_PER_POSITION);
    return { position, remainingTime: estimateSeconds(position, perPosition, r.status === 'offered') };
  }

  #history(workgroup: string) {
    return this.deps.requests.served(workgroup, new Date(this.deps.clock.now() - HISTORY_WINDOW_MS));
  }

  async queueChanged(workgroup: string): Promise<void> {
    const queue = await this.deps.requests.waiting(workgroup);
    const history = await this.#history(workgroup);
    const perPosition = msPerPosition(history, FALLBACK_MS_PER_POSITION);
    const now = positions(queue);
    for (const [id, position] of changedPositions(now, this.#told)) {
      const r = queue.find((q) => q.id === id)!;
      this.#told.set(id, position);
      await this.#tellPosition(
        r,
        position,
        estimateSeconds(position, perPosition, r.status === 'offered'),
      ).catch((err) => this.deps.log.warn({ err, requestId: id }, 'queue update not delivered'));
    }
    for (const r of queue) if (!now.has(r.id)) this.#told.delete(r.id);
    await this.#tellAgents(workgroup, queue, history, perPosition).catch((err) =>
      this.deps.log.debug({ err }, 'queue presence not sent'),
    );
  }

  /** Stops updates for requests that left the queue (their ids are no longer in `waiting`). */
  forget(requestId: string): void {
    this.#told.delete(requestId);
  }

  async #tellPosition(r: RequestRow, position: number, waitSeconds: number): Promise<void> {
    if (r.kind === 'rest') {
      await this.deps.hub.publish(
        visitorKey(r.id),
        EVENT_NAMES.ask,
        updateQueuePayload(this.address(r), position, waitSeconds),
        { durable: true },
      );
    } else if (this.deps.component.isOnline) {
      await this.deps.component.send(
        queueStatusMessage(this.wgJid(r.workgroup), r.userJid, position, waitSeconds),
      );
    }
  }

  async #tellAgents(
    workgroup: string,
    queue: RequestRow[],
    history: ServedRequest[],
    perPosition: number,
  ): Promise<void> {
    if (!this.deps.component.isOnline) return;
    const agents = await this.deps.workgroups.agents(workgroup);
    const from = this.wgJid(workgroup);
    const summary = {
      count: queue.length,
      oldest: queue[0]?.joinedAt,
      averageWaitSeconds: averageWaitSeconds(history),
      status: queueStatus(agents.length, queue.length),
    };
    const users = queue.map((r, i) => ({
      jid: r.userJid,
      userId: r.userId,
      position: i + 1,
      waitSeconds: estimateSeconds(i + 1, perPosition, r.status === 'offered'),
      joined: r.joinedAt,
    }));
    for (const a of agents) {
      await this.deps.component.send(notifyQueuePresence(from, a.fullJid, summary));
      await this.deps.component.send(notifyQueueDetailsPresence(from, a.fullJid, users));
    }
  }

  /** The request left the queue without a chat: `depart-queue` with the reason. */
  async departed(r: RequestRow, reason: DepartReason, detail?: string): Promise<void> {
    this.#told.delete(r.id);
    try {
      if (r.kind === 'rest') {
        await this.deps.hub.publish(
          visitorKey(r.id),
          EVENT_NAMES.ask,
          departQueuePayload(this.address(r), reason, detail),
          { durable: true },
        );
      } else if (this.deps.component.isOnline) {
        await this.deps.component.send(departMessage(this.wgJid(r.workgroup), r.userJid, reason));
      }
    } catch (err) {
      this.deps.log.warn({ err, requestId: r.id }, 'depart-queue not delivered');
    }
  }
}
