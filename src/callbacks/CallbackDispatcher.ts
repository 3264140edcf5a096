import type { Log } from '../log.js';
import type { CallbackOutbox, ClaimedCallback } from './CallbackOutbox.js';
import { postCallback, type DeliveryResult } from './deliver.js';
import { nextStep } from './retrySchedule.js';
import type { AddressPolicy } from './ssrf.js';

/** Turns a stored callback into the body to POST, signed with the (decrypted) secret at this second. */
export type CallbackSigner = (salt: string, params: Record<string, string>, secret: string) => string;

export interface DispatcherDeps {
  outbox: CallbackOutbox;
  signers: Record<string, CallbackSigner>;
  /** undefined when the secret cannot be read (PARLEY_SECRET rotated): the callback is dead-lettered */
  openSecret: (sealed: string) => string | undefined;
  policy: AddressPolicy;
  log: Log;
  backoffMaxSeconds: number;
  /** per attempt; the lease is a little longer so a slow answer is never sent twice */
  timeoutMs?: number;
  /** how often to look for due retries when nothing nudged */
  pollMs?: number;
  /** callbacks in flight at once (each for a different ordering key) */
  batch?: number;
  /** for tests: POST implementation */
  post?: typeof postCallback;
}

const USER_AGENT = 'Parley (bbb-chat compatible)';

/**
 * Sends the outbox: claims due head-of-line callbacks, POSTs them concurrently (one per ordering key),
 * records the outcome, and loops while there is work; otherwise sleeps until nudged or the next poll.
 */
export class CallbackDispatcher {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;

  constructor(private readonly deps: DispatcherDeps) {}

  async start(): Promise<void> {
    this.#stopped = false;
    await this.deps.outbox.releaseOwnLeases();
    this.nudge();
  }

  /** Something was enqueued (or replayed): look now rather than at the next poll. */
  nudge(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.nudge();
        return;
      }
      this.#timer = setTimeout(() => this.nudge(), this.deps.pollMs ?? 500);
      this.#timer.unref();
    });
  }

  /** Stops claiming; waits for attempts in flight so their outcome is recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #drain(): Promise<void> {
    const timeoutMs = this.deps.timeoutMs ?? 10_000;
    try {
      while (!this.#stopped) {
        const claimed = await this.deps.outbox.claim(this.deps.batch ?? 16, Math.ceil(timeoutMs / 1000) + 5);
        if (!claimed.length) return;
        await Promise.all(claimed.map((c) => this.#attempt(c, timeoutMs)));
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'callback outbox unavailable; retrying');
    }
  }

  async #attempt(c: ClaimedCallback, timeoutMs: number): Promise<void> {
    const result = await this.#send(c, timeoutMs);
    if (result.ok) {
      await this.deps.outbox.delivered(c.id, result.status);
      return;
    }
    const fatal = result.error === SECRET_UNREADABLE || !this.deps.signers[c.scheme];
    const next = fatal
      ? { state: 'dead' as const }
      : nextStep({
          now: new Date(),
          giveUpAt: c.giveUpAt,
          attempts: c.attempts,
          backoffMaxSeconds: this.deps.backoffMaxSeconds,
        });
    await this.deps.outbox.failed(c.id, result, next);
    const level = next.state === 'dead' ? 'warn' : 'debug';
    this.deps.log[level](
      { id: c.id, attempts: c.attempts, status: result.status, error: result.error, next: next.state },
      'callback attempt failed',
    );
  }

  async #send(c: ClaimedCallback, timeoutMs: number): Promise<DeliveryResult> {
    const sign = this.deps.signers[c.scheme];
    if (!sign) return { ok: false, error: `no signer for scheme ${c.scheme}` };
    const secret = c.secretEnc ? this.deps.openSecret(c.secretEnc) : undefined;
    if (secret === undefined) return { ok: false, error: SECRET_UNREADABLE };
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      // Same value on every attempt: receivers drop a callback they have already processed.
      'Idempotency-Key': c.idempotencyKey,
    };
    try {
      return await (this.deps.post ?? postCallback)(c.url, sign(c.salt, c.params, secret), headers, {
        timeoutMs,
        policy: this.deps.policy,
      });
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }
}

const SECRET_UNREADABLE = 'the callback secret cannot be decrypted (was PARLEY_SECRET changed?)';
