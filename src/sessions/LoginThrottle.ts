import { BridgeError } from '../errors/BridgeError.js';
import type { Limiter, LimiterFactory } from '../limits/limiter.js';
import { retryAfterSeconds } from '../limits/limiter.js';

export interface LoginThrottleOptions {
  /** failures per user and client address before backing off */
  maxFailures: number;
  maxFailuresPerIp: number;
  maxFailuresPerUser: number;
  backoffMaxSeconds: number;
  /** password checks in flight at once from one address */
  concurrentPerIp: number;
  /**
   * Failed checks the whole instance (the cluster, with Redis) absorbs per `failureBudgetSeconds` before
   * it refuses further checks from clients that have failed before (see below).
   */
  failureBudget: number;
  failureBudgetSeconds: number;
}

/** Failures are counted over this window from the first one. */
const WINDOW_SECONDS = 3600;
const NO_LIMIT = 1_000_000_000;

/**
 * Every password check is an XMPP connection and a SASL exchange, so guessing must cost the guesser:
 * after N failures (per user+address, per address, per user) further checks are refused with 429 and a
 * Retry-After that doubles with each further failure (1 s, 2 s, 4 s … up to the maximum). Checks in
 * flight from one address are capped too, or a burst would all pass before the first failure counted.
 * A success clears the user's own counters; never the address's (a guesser with one valid account
 * must not reset their address's count between guesses).
 *
 * The per-client limits still let a few guessing addresses spend ~30 checks each before their first
 * block, and every check costs the XMPP server a connection and a key derivation on the same thread that
 * routes everyone's messages (a flood of 100 wrong passwords a second from four addresses raised a normal
 * user's send → deliver p99 from ~60 ms to ~300 ms). So failures also draw on an instance-wide budget:
 * once it is spent, checks from an address that has already failed (or by a user who has, where the
 * address is unknown) are refused until the window passes, while clients with a clean record go on
 * logging in as before — the budget slows guessers down but cannot be used to lock everybody out.
 */
export class LoginThrottle {
  readonly #failures: Limiter;
  readonly #blocked: Limiter;
  readonly #inFlight = new Map<string, number>();
  /** checks in flight per dimension key: each may still fail, so each counts against the budget */
  readonly #pending = new Map<string, number>();
  readonly #instanceFailures: Limiter;
  /** checks in flight from clients that have failed before: each may spend the instance budget */
  #suspectsInFlight = 0;

  constructor(
    private readonly opts: LoginThrottleOptions,
    limiter: LimiterFactory,
  ) {
    this.#failures = limiter('login-failures', { points: NO_LIMIT, duration: WINDOW_SECONDS });
    this.#blocked = limiter('login-blocked', { points: 1, duration: 1 });
    this.#instanceFailures = limiter('login-failures-instance', {
      points: NO_LIMIT,
      duration: opts.failureBudgetSeconds,
    });
  }

  #dimensions(username: string, ip: string | undefined): { key: string; max: number }[] {
    const user = { key: `u:${username}`, max: this.opts.maxFailuresPerUser };
    if (ip === undefined) return [user];
    return [
      { key: `ui:${username}|${ip}`, max: this.opts.maxFailures },
      { key: `i:${ip}`, max: this.opts.maxFailuresPerIp },
      user,
    ];
  }

  /**
   * Runs one password check (`check` throws BridgeError BAD_CREDENTIALS for a wrong password), or
   * refuses it with 429 LOGIN_THROTTLED while the user or the address is backing off.
   */
  async run<T>(username: string, ip: string | undefined, check: () => Promise<T>): Promise<T> {
    const dims = this.#dimensions(username, ip);
    // Counted in before the (asynchronous) look at the counters, so a burst sees itself.
    for (const d of dims) this.#pending.set(d.key, (this.#pending.get(d.key) ?? 0) + 1);
    let release = (): void => undefined;
    let suspect = false;
    try {
      suspect = await this.#refuseIfBlocked(dims);
      release = this.#enter(ip);
      const result = await check();
      await Promise.all(dims.filter((d) => !d.key.startsWith('i:')).map((d) => this.#failures.delete(d.key)));
      return result;
    } catch (err) {
      if (err instanceof BridgeError && err.code === 'BAD_CREDENTIALS') await this.#failed(dims);
      throw err;
    } finally {
      for (const d of dims) {
        const left = (this.#pending.get(d.key) ?? 1) - 1;
        if (left > 0) this.#pending.set(d.key, left);
        else this.#pending.delete(d.key);
      }
      release();
      if (suspect) this.#suspectsInFlight--;
    }
  }

  /**
   * Blocked, or as many checks in flight as failures are left before the block (a burst of guesses
   * sent at once would otherwise all reach the XMPP server before the first failure counted), or a
   * client with failures while the instance's failure budget is spent. Resolves whether the check is
   * a suspect's (counted in flight against the budget until it ends).
   */
  async #refuseIfBlocked(dims: { key: string; max: number }[]): Promise<boolean> {
    const [blocked, failed, instance] = await Promise.all([
      Promise.all(dims.map((d) => this.#blocked.get(d.key))),
      Promise.all(dims.map((d) => this.#failures.get(d.key))),
      this.#instanceFailures.get('all'),
    ]);
    // Judged by the address (or the pair) where there is one: the user alone may be someone else's target.
    const judged = dims.length > 1 ? dims.filter((d) => !d.key.startsWith('u:')) : dims;
    const suspect = dims.some((d, i) => judged.includes(d) && (failed[i]?.consumedPoints ?? 0) > 0);
    const waits = blocked.flatMap((s) => (s && s.consumedPoints > 1 ? [retryAfterSeconds(s)] : []));
    dims.forEach((d, i) => {
      const failures = failed[i]?.consumedPoints ?? 0;
      // An address with no failure yet may send a burst (many users behind one NAT or one server-side
      // app logging them in at once): concurrentPerIp bounds it. Once it has failed, its checks count.
      if (d.key.startsWith('i:') && failures === 0) return;
      // Past the threshold (a block just ended) one check at a time may try again.
      const left = Math.max(1, d.max - failures);
      if ((this.#pending.get(d.key) ?? 0) > left) waits.push(1);
    });
    // Counted synchronously after the reads, so a burst of suspects cannot all pass one look.
    if (suspect && (instance?.consumedPoints ?? 0) + this.#suspectsInFlight >= this.opts.failureBudget)
      waits.push(instance ? retryAfterSeconds(instance) : 1);
    if (!waits.length) {
      if (suspect) this.#suspectsInFlight++;
      return suspect;
    }
    const retryAfter = Math.max(...waits);
    throw new BridgeError(
      'LOGIN_THROTTLED',
      `too many failed password checks for this account or address; retry in ${retryAfter} s`,
      { retryAfter },
    );
  }

  #enter(ip: string | undefined): () => void {
    if (ip === undefined) return () => undefined;
    const n = this.#inFlight.get(ip) ?? 0;
    if (n >= this.opts.concurrentPerIp)
      throw new BridgeError('RATE_LIMITED', 'too many password checks in flight from this address', {
        retryAfter: 1,
      });
    this.#inFlight.set(ip, n + 1);
    return () => {
      const left = (this.#inFlight.get(ip) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(ip, left);
      else this.#inFlight.delete(ip);
    };
  }

  async #failed(dims: { key: string; max: number }[]): Promise<void> {
    await this.#instanceFailures.consume('all');
    for (const d of dims) {
      const { consumedPoints: count } = await this.#failures.consume(d.key);
      if (count < d.max) continue;
      const seconds = Math.min(this.opts.backoffMaxSeconds, 2 ** Math.min(30, count - d.max));
      await this.#blocked.block(d.key, seconds);
    }
  }
}
