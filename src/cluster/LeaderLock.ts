import type pg from 'pg';
import type { Log } from '../log.js';

/**
 * One holder at a time across gateway instances, for work that must run once (an XMPP component:
 * Prosody accepts one connection per component domain). A Postgres session-level advisory lock on a
 * dedicated connection: if the holder dies its connection drops and the lock is free, so another
 * instance, trying every `retryMs`, takes over within that period.
 */
export class LeaderLock {
  #client: pg.PoolClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #leading = false;

  constructor(private readonly deps: { pool: pg.Pool; name: string; log: Log; retryMs?: number; onAcquire: () => Promise<void>; onLose: () => Promise<void> }) {}

  get isLeader(): boolean { return this.#leading; }

  async start(): Promise<void> { await this.#try(); }

  async #try(): Promise<void> {
    if (this.#stopped) return;
    try {
      this.#client ??= await this.deps.pool.connect();
      const { rows } = await this.#client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`parley:${this.deps.name}`]);
      if (rows[0]?.ok) {
        this.#leading = true;
        this.#client.on('error', () => void this.#lost());
        this.deps.log.info({ lock: this.deps.name }, 'acquired leadership');
        await this.deps.onAcquire();
        return;
      }
    } catch (err) {
      this.deps.log.debug({ err, lock: this.deps.name }, 'leader lock attempt failed');
      this.#client?.release(true);
      this.#client = undefined;
    }
    this.#timer = setTimeout(() => void this.#try(), this.deps.retryMs ?? 3000);
    this.#timer.unref();
  }

  async #lost(): Promise<void> {
    if (!this.#leading) return;
    this.#leading = false;
    this.deps.log.warn({ lock: this.deps.name }, 'lost leadership (database connection dropped)');
    this.#client?.release(true);
    this.#client = undefined;
    await this.deps.onLose().catch(() => undefined);
    void this.#try();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#leading) await this.deps.onLose().catch(() => undefined);
    this.#leading = false;
    // Releasing the connection with `true` destroys it, which frees the lock at once.
    this.#client?.release(true);
    this.#client = undefined;
  }
}
