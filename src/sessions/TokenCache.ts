import type { TokenOwner } from './SessionStore.js';

/**
 * Owners of the tokens of this instance's live sessions, keyed by token hash: every request checks its
 * token, and for live local sessions this answers without a database round trip. Entries go with their
 * session (logoff, idle, shutdown); tokens of other sessions always come from the database. Each stream's
 * hashes are kept apart too, so a session's end drops its own entries without a walk over everyone's (a
 * shutdown of 10,000 sessions was 10,000 walks of 10,000).
 */
export class TokenCache {
  readonly #byHash = new Map<string, TokenOwner>();
  readonly #byStream = new Map<string, Set<string>>();

  get(hash: Buffer): TokenOwner | undefined {
    return this.#byHash.get(hash.toString('base64'));
  }
  delete(hash: Buffer): void {
    this.#drop(hash.toString('base64'));
  }
  set(hash: Buffer, owner: TokenOwner): void {
    const key = hash.toString('base64');
    this.#drop(key);
    this.#byHash.set(key, owner);
    let keys = this.#byStream.get(owner.streamId);
    if (!keys) this.#byStream.set(owner.streamId, (keys = new Set()));
    keys.add(key);
  }

  #drop(key: string): void {
    const owner = this.#byHash.get(key);
    if (!owner) return;
    this.#byHash.delete(key);
    const keys = this.#byStream.get(owner.streamId);
    keys?.delete(key);
    if (keys?.size === 0) this.#byStream.delete(owner.streamId);
  }

  forgetStream(streamId: string): void {
    for (const key of this.#byStream.get(streamId) ?? []) this.#byHash.delete(key);
    this.#byStream.delete(streamId);
  }

  /** tokens held, for tests */
  get size(): number {
    return this.#byHash.size;
  }
}
