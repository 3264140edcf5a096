import type { TokenOwner } from './SessionStore.js';

/**
 * Owners of the tokens of this instance's live sessions, keyed by token hash: every request checks its
 * token, and for live local sessions this answers without a database round trip. Entries go with their
 * session (logoff, idle, shutdown); tokens of other sessions always come from the database.
 */
export class TokenCache {
  readonly #byHash = new Map<string, TokenOwner>();

  get(hash: Buffer): TokenOwner | undefined {
    return this.#byHash.get(hash.toString('base64'));
  }
  delete(hash: Buffer): void {
    this.#byHash.delete(hash.toString('base64'));
  }
  set(hash: Buffer, owner: TokenOwner): void {
    this.#byHash.set(hash.toString('base64'), owner);
  }

  forgetStream(streamId: string): void {
    for (const [key, owner] of this.#byHash) if (owner.streamId === streamId) this.#byHash.delete(key);
  }
}
