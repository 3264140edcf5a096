import { BridgeError } from '../errors/BridgeError.js';
import type { Log } from '../log.js';
import type { AccountBlocks, BlockKind } from './AccountBlocks.js';
import type { LoginPolicy, SendPolicy } from './ports.js';

export interface AccountPolicyOptions {
  /** the safety net: how often the whole ACL is read again, for a change whose bus message was lost */
  refreshMs: number;
  log?: Log;
}

/**
 * The Parley-side ACL (moderation_account_blocks) as ports, answered from memory: every send asks, and
 * the set of muted and disabled accounts is small, so the whole table is held here and read again
 * (a) at once when a block changes — on this instance by ModerationActions, on the others through the
 * cluster bus (`invalidate`) — and (b) every `refreshMs` whatever happens, so an instance that missed a
 * bus message converges. A user whose blocks changed after the snapshot was read is asked of the
 * database directly until a newer snapshot lands: between an invalidation and its reload, no send is
 * answered from stale memory. Until the first read succeeds (database down at start), every question
 * goes to the database, as before.
 */
export class AccountPolicy implements SendPolicy, LoginPolicy {
  #snapshot: Map<string, Set<BlockKind>> | undefined;
  /** users whose blocks changed since the snapshot was read */
  readonly #dirty = new Set<string>();
  /** bumped by each invalidation: a read that overlapped one may predate it and is not applied */
  #generation = 0;
  #wanted = false;
  #running: Promise<void> | undefined;
  #waiters: Array<() => void> = [];
  readonly #heard = new Map<string, Array<() => void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly blocks: Pick<AccountBlocks, 'has' | 'all'>,
    private readonly opts: AccountPolicyOptions = { refreshMs: 5000 },
  ) {}

  async assertMaySend(username: string): Promise<void> {
    if (await this.#blocked(username, 'muted', 'disabled'))
      throw new BridgeError('FORBIDDEN', `${username} may not send messages (blocked by an administrator)`);
  }

  async assertMayLogin(username: string): Promise<void> {
    if (await this.#blocked(username, 'disabled'))
      throw new BridgeError('FORBIDDEN', `the account ${username} is disabled by an administrator`);
  }

  /** Reads the ACL and starts the periodic refresh; a failed first read leaves questions on the database. */
  async start(): Promise<void> {
    await this.refresh().catch(() => undefined);
    this.#timer ??= setInterval(() => void this.refresh().catch(() => undefined), this.opts.refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** `username`'s blocks changed (here, or on another instance): stop trusting memory for them, and reload. */
  invalidate(username: string): void {
    this.#dirty.add(username);
    this.#generation++;
    void this.refresh().catch(() => undefined);
    for (const resolve of this.#heard.get(username) ?? []) resolve();
    this.#heard.delete(username);
  }

  /** Resolves at the next invalidation of `username` (tests: a peer's bus message has arrived). */
  invalidated(username: string): Promise<void> {
    return new Promise((resolve) =>
      this.#heard.set(username, [...(this.#heard.get(username) ?? []), resolve]),
    );
  }

  /** Resolves once a snapshot read wholly after this call is applied, by whatever reload comes next (tests). */
  refreshed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Reads the whole ACL again; concurrent calls share one read loop (one more read if asked meanwhile). */
  refresh(): Promise<void> {
    this.#wanted = true;
    this.#running ??= this.#loop().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #loop(): Promise<void> {
    while (this.#wanted) {
      this.#wanted = false;
      const generation = this.#generation;
      const waiting = this.#waiters.splice(0);
      let rows: Array<{ username: string; kind: BlockKind }>;
      try {
        rows = await this.blocks.all();
      } catch (err) {
        this.#waiters.unshift(...waiting);
        this.opts.log?.warn({ err }, 'reading the account ACL failed; asking the database per send');
        throw err;
      }
      if (generation !== this.#generation) {
        // An invalidation arrived while reading: this snapshot may predate that change. Read again.
        this.#waiters.unshift(...waiting);
        this.#wanted = true;
        continue;
      }
      const snapshot = new Map<string, Set<BlockKind>>();
      for (const { username, kind } of rows) {
        const kinds = snapshot.get(username) ?? new Set<BlockKind>();
        snapshot.set(username, kinds.add(kind));
      }
      this.#snapshot = snapshot;
      this.#dirty.clear();
      for (const resolve of waiting) resolve();
    }
  }

  async #blocked(username: string, ...kinds: BlockKind[]): Promise<boolean> {
    if (!this.#snapshot || this.#dirty.has(username)) return this.blocks.has(username, ...kinds);
    const has = this.#snapshot.get(username);
    return !!has && kinds.some((k) => has.has(k));
  }
}
