import { createHash } from 'node:crypto';
import type { Log } from '../log.js';
import { BBB_CHANNELS, REDIS_KEYS } from '../redis/keys.js';
import { closeQuietly, connectSoon, createRedisClient, type RedisClient } from '../redis/createRedis.js';
import { parseHandled, type BbbEnvelope, type HandledName } from './envelopes.js';

export type BbbEventHandler = (name: HandledName, msg: BbbEnvelope) => Promise<void>;

/** Redis is down (or not connected yet): the API answers 503. */
export class BbbLinkDown extends Error {
  override readonly name = 'BbbLinkDown';
}

/**
 * Parley's link to BigBlueButton's Redis: one connection subscribed to BBB's channels, one for commands
 * (publishing into BBB, the checksum replay cache). Events are handled one at a time in arrival order:
 * an event counts as processed only when its handler (which writes the database first) has finished.
 * Both connections reconnect by themselves; node-redis re-subscribes after every reconnect.
 */
export class BbbLink {
  readonly #sub: RedisClient;
  readonly #cmd: RedisClient;
  #tail: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { url: string; log: Log; onEvent: BbbEventHandler }) {
    this.#sub = createRedisClient(deps.url, { log: deps.log, name: 'parley-bbb-sub' });
    this.#cmd = createRedisClient(deps.url, { log: deps.log, name: 'parley-bbb', failFast: true });
  }

  async start(): Promise<void> {
    const ready = Promise.all([
      connectSoon(this.#sub, 3000, this.deps.log),
      connectSoon(this.#cmd, 3000, this.deps.log),
    ]);
    // The connection is opening: the subscription waits in its queue until Redis answers (it may be down now).
    void this.#sub
      .subscribe([BBB_CHANNELS.fromAkkaApps, BBB_CHANNELS.toAkkaApps], (raw: string) => this.#enqueue(raw))
      .catch((err: unknown) => this.deps.log.debug({ err }, 'redis subscription ended'));
    await ready;
  }

  /** Waits for the events received so far to be handled (a graceful stop). */
  async stop(): Promise<void> {
    closeQuietly(this.#sub);
    await this.#tail;
    closeQuietly(this.#cmd);
  }

  async publish(msg: BbbEnvelope): Promise<void> {
    await this.#command(() => this.#cmd.publish(BBB_CHANNELS.toAkkaApps, JSON.stringify(msg)));
  }

  /** True the first time a checksum is seen within `ttlSeconds`: BBB checksums are single-use here. */
  async firstUse(checksum: string, ttlSeconds: number): Promise<boolean> {
    const digest = createHash('sha256').update(checksum).digest('hex');
    const set = await this.#command(() =>
      this.#cmd.set(REDIS_KEYS.bbbChecksumUsed(digest), '1', { NX: true, EX: ttlSeconds }),
    );
    return set === 'OK';
  }

  async #command<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#cmd.isReady) throw new BbbLinkDown('the BigBlueButton Redis is not connected');
    try {
      return await fn();
    } catch (err) {
      throw new BbbLinkDown(`the BigBlueButton Redis failed: ${(err as Error).message}`);
    }
  }

  #enqueue(raw: string): void {
    const parsed = parseHandled(raw);
    if (!parsed) return;
    this.#tail = this.#tail
      .then(() => this.deps.onEvent(parsed.name, parsed.msg))
      .catch((err: unknown) => this.deps.log.warn({ err, event: parsed.name }, 'BBB event handling failed'));
  }
}
