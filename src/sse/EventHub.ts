import type { Log } from '../log.js';
import { DeliveryOrder } from './DeliveryOrder.js';
import type { EventStore, StoredEvent } from '../messages/EventStore.js';
import type { DeliveredEvent, EventName, Payload } from './events.js';

export type Listener = (event: DeliveredEvent) => void;
/** A feature's current-state events for a user (e.g. contacts' presence), sent first on every stream connect. */
export type SnapshotProvider = (username: string) => DeliveredEvent[];

/** PARLEY_SSE_*: streams per user (or visitor) on this instance, and unread bytes before a stream is dropped. */
export interface StreamLimits {
  maxStreamsPerUser: number;
  maxBufferBytes: number;
}
const UNLIMITED: StreamLimits = { maxStreamsPerUser: Infinity, maxBufferBytes: Infinity };
/**
 * Replay pages read at once across all streams: a crowd of streams replaying long histories must not take
 * every pooled database connection (and the event loop) from live traffic; they take turns instead.
 */
const REPLAY_READS = 2;
/**
 * Replays running at once above which their pages are paced (ReplayPacer): a login or a reconnect replays
 * alone and goes at once, whatever the load; a storm of them (a restart, a flood of streams opened from 0)
 * yields to live traffic.
 */
const REPLAYS_BEFORE_PACING = 8;

/**
 * Fans a user's events out to every open stream of that user (ofchat fed only the newest tab).
 * Durable events are written to the store first; the row id becomes the SSE id, so a stream that
 * reconnects with Last-Event-ID replays exactly what it missed. Ephemeral events (presence, chat
 * states) are delivered live only. A user's durable events leave in id order (DeliveryOrder).
 */
export class EventHub {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #snapshots: SnapshotProvider[] = [];
  readonly #streams = new Set<() => void>();
  readonly #published: ((username: string, event: DeliveredEvent) => void)[] = [];
  readonly #order = new DeliveryOrder((username, event) => this.#fanOut(username, event));
  readonly #streamsOf = new Map<string, number>();
  #replayReads = 0;
  /** replays in progress (streams between their first page and their last) */
  #replaying = 0;
  readonly #replayQueue: (() => void)[] = [];
  constructor(
    private readonly deps: {
      store: EventStore;
      log: Log;
      limits?: StreamLimits;
      /** holds replayed pages back while live traffic keeps the event loop busy (ReplayPacer) */
      pacer?: { turn(): Promise<void> };
    },
  ) {}

  get limits(): StreamLimits {
    return this.deps.limits ?? UNLIMITED;
  }

  /**
   * Counts an open stream of `key` (a user, or a visitor request); undefined when it already has the
   * most it may. The newest is the one refused: cutting the oldest instead would have two tabs take turns
   * throwing each other out, each reconnect ending another stream.
   */
  claimStream(key: string): (() => void) | undefined {
    const n = this.#streamsOf.get(key) ?? 0;
    if (n >= this.limits.maxStreamsPerUser) return undefined;
    this.#streamsOf.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#streamsOf.get(key) ?? 1) - 1;
      if (left > 0) this.#streamsOf.set(key, left);
      else this.#streamsOf.delete(key);
    };
  }

  /** Ephemeral events replace replay for current state: features register what a (re)connecting stream needs. */
  addSnapshot(provider: SnapshotProvider): void {
    this.#snapshots.push(provider);
  }

  snapshot(username: string): DeliveredEvent[] {
    return this.#snapshots.flatMap((provide) => {
      try {
        return provide(username);
      } catch (err) {
        this.deps.log.warn({ err }, 'snapshot provider failed');
        return [];
      }
    });
  }

  /** Stores, then delivers. Resolves with the delivered event (its id when durable). */
  async publish(
    username: string,
    name: EventName,
    payload: Payload,
    opts: { durable: boolean },
  ): Promise<DeliveredEvent> {
    let event: DeliveredEvent;
    if (opts.durable) {
      event = withEnvelope(
        await this.ordered(username, () => this.deps.store.insert(username, name, payload)),
      );
    } else {
      event = { name, payload };
    }
    this.deliver(username, event);
    return event;
  }

  /**
   * Sees every event this instance delivers (the cluster's Redis bus carries them to the other
   * instances, which hand them to deliverLocal()).
   */
  onPublished(fn: (username: string, event: DeliveredEvent) => void): void {
    this.#published.push(fn);
  }

  /**
   * Every write that stores a durable event of `username` goes through here (publish() does; features
   * storing rows with their event use it around their statement or transaction) and its event is handed
   * to deliver() as soon as this resolves, so deliver() can keep the user's events in id order.
   */
  ordered<T extends { id: string } | undefined>(username: string, write: () => Promise<T>): Promise<T> {
    return this.#order.write(username, write);
  }

  /** To this instance's streams of the user and, through onPublished, to the other instances'. */
  deliver(username: string, event: DeliveredEvent): void {
    this.#order.deliver(username, event);
  }

  #fanOut(username: string, event: DeliveredEvent): void {
    this.deliverLocal(username, event);
    for (const fn of this.#published) {
      try {
        fn(username, event);
      } catch (err) {
        this.deps.log.warn({ err }, 'event fan-out failed');
      }
    }
  }

  /** To this instance's streams of the user only. */
  deliverLocal(username: string, event: DeliveredEvent): void {
    for (const listener of this.#listeners.get(username) ?? []) {
      try {
        listener(event);
      } catch (err) {
        this.deps.log.warn({ err }, 'event listener failed');
      }
    }
  }

  subscribe(username: string, listener: Listener): () => void {
    let set = this.#listeners.get(username);
    if (!set) this.#listeners.set(username, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(username);
    };
  }

  latestId(username: string): Promise<string> {
    return this.deps.store.latestId(username);
  }

  /** For features that store their own rows with the event in one statement or transaction (inside ordered()), then deliver(). */
  get store(): EventStore {
    return this.deps.store;
  }

  /** Open SSE responses register how to close themselves, so shutdown can send them elsewhere. */
  trackStream(close: () => void): () => void {
    this.#streams.add(close);
    return () => this.#streams.delete(close);
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  /** Ends every open stream with a short retry hint (graceful shutdown: clients reconnect elsewhere). */
  closeStreams(): void {
    for (const close of [...this.#streams]) {
      try {
        close();
      } catch (err) {
        this.deps.log.debug({ err }, 'closing a stream failed');
      }
    }
    this.#streams.clear();
  }

  listenerCount(username: string): number {
    return this.#listeners.get(username)?.size ?? 0;
  }

  async #replayRead<T>(read: () => Promise<T>): Promise<T> {
    if (this.#replaying > REPLAYS_BEFORE_PACING) await this.deps.pacer?.turn();
    if (this.#replayReads >= REPLAY_READS) await new Promise<void>((r) => this.#replayQueue.push(r));
    else this.#replayReads++;
    try {
      return await read();
    } finally {
      const next = this.#replayQueue.shift();
      if (next) next();
      else this.#replayReads--;
    }
  }

  /**
   * Durable events after `afterId`, oldest first, in pages. A page may hold an event whose lower-id
   * neighbour was not committed yet when it was read; each page is yielded only once every write begun
   * before the read has been delivered, so a stream subscribed before the replay has the missing ones
   * in its live buffer and can merge them in (openStream).
   */
  async *replay(username: string, afterId: string, pageSize = 500): AsyncGenerator<DeliveredEvent[]> {
    let cursor = afterId;
    this.#replaying++;
    try {
      for (;;) {
        const page = await this.#replayRead(() => this.deps.store.after(username, cursor, pageSize));
        await this.#order.settled(username, this.#order.mark());
        if (page.length) yield page.map(withEnvelope);
        if (page.length < pageSize) return;
        cursor = page[page.length - 1]!.id;
      }
    } finally {
      this.#replaying--;
    }
  }
}

/**
 * Every durable payload carries its id and a timestamp (ISO 8601): the time it was stored, unless the
 * feature stored the original time (a message caught up from the archive keeps when it was sent).
 */
export function withEnvelope(e: StoredEvent): DeliveredEvent {
  const timestamp = typeof e.payload.timestamp === 'string' ? e.payload.timestamp : e.createdAt.toISOString();
  return { id: e.id, name: e.name, payload: { ...e.payload, id: e.id, timestamp } };
}
