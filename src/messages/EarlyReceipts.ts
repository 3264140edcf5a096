/**
 * Receipts and read markers that may have come before their message row is visible.
 *
 * A send writes its row in a transaction that commits only after the stanza went out, so the peer's
 * XEP-0184/0333 answer can be handled while the row is still invisible: its UPDATE matches nothing and
 * the receipt would be lost. Every receipt is therefore registered here *before* its statement runs,
 * and every stored outgoing message takes (and re-applies) what is registered for it once committed.
 * Registering first closes the gap between "the statement missed" and "the message just committed":
 * whichever side comes second sees the other. A receipt that found its row releases its entry;
 * re-applying one that already took effect changes nothing (the status guard in the statement).
 *
 * Bounded: entries expire after `ttlMs`, and beyond `max` the oldest go first. Nothing here touches
 * the database, so the hot path keeps its one statement per receipt.
 */
export class EarlyReceipts<R> {
  readonly #entries = new Map<number, { key: string; value: R; expires: number }>();
  readonly #byKey = new Map<string, Set<number>>();
  #next = 0;

  constructor(
    private readonly opts: { max: number; ttlMs: number; now?: () => number } = {
      max: 10_000,
      ttlMs: 60_000,
    },
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Holds `value` for `key`; the returned function releases it (a no-op once taken or expired). */
  hold(key: string, value: R): () => void {
    this.#evict();
    const id = this.#next++;
    this.#entries.set(id, { key, value, expires: this.#now() + this.opts.ttlMs });
    let ids = this.#byKey.get(key);
    if (!ids) this.#byKey.set(key, (ids = new Set()));
    ids.add(id);
    return () => this.#remove(id);
  }

  /** Everything still held for `key`, removed. */
  take(key: string): R[] {
    const ids = this.#byKey.get(key);
    if (!ids) return [];
    const now = this.#now();
    const out: R[] = [];
    for (const id of [...ids]) {
      const e = this.#entries.get(id);
      if (e && e.expires > now) out.push(e.value);
      this.#remove(id);
    }
    return out;
  }

  #now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Expired entries from the front (insertion order is expiry order), then the oldest beyond `max`. */
  #evict(): void {
    const now = this.#now();
    for (const [id, e] of this.#entries) {
      if (e.expires > now && this.#entries.size < this.opts.max) break;
      this.#remove(id);
    }
  }

  #remove(id: number): void {
    const e = this.#entries.get(id);
    if (!e) return;
    this.#entries.delete(id);
    const ids = this.#byKey.get(e.key);
    ids?.delete(id);
    if (ids?.size === 0) this.#byKey.delete(e.key);
  }
}

/** The key a receipt and the outgoing 1:1 message it acknowledges share. */
export const receiptKey = (owner: string, peer: string, messageId: string): string =>
  `${owner}\u0000${peer}\u0000${messageId}`;
