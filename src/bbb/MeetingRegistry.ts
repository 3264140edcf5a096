import type { Meeting } from './MeetingStore.js';
import { internalPrefixOf, looksInternal } from './meetingIds.js';

/**
 * The live chats in memory, found by any of their ids: Redis events arrive by the thousand (for every
 * meeting on the BBB server) and are matched here without a query, by map look-ups. Loaded from the
 * database at start, so a restart or a Redis reconnect loses no registration.
 */
export class MeetingRegistry {
  readonly #meetings = new Set<Meeting>();
  readonly #byInternal = new Map<string, Meeting>();
  /** sha1(externalId) + '-' of chats whose internal id is not known yet */
  readonly #unbound = new Map<string, Meeting>();

  add(m: Meeting): void {
    this.#meetings.add(m);
    if (m.internalId) this.#byInternal.set(m.internalId, m);
    else if (m.externalId) this.#unbound.set(internalPrefixOf(m.externalId), m);
  }

  remove(m: Meeting): void {
    this.#meetings.delete(m);
    if (m.internalId && this.#byInternal.get(m.internalId) === m) this.#byInternal.delete(m.internalId);
    for (const [prefix, u] of this.#unbound) if (u === m) this.#unbound.delete(prefix);
  }

  all(): Meeting[] {
    return [...this.#meetings];
  }

  /** By the id an API caller names it with: the registered, external or internal id. */
  find(id: string): Meeting | undefined {
    for (const m of this.#meetings)
      if (m.registeredId === id || m.internalId === id || m.externalId === id) return m;
    return undefined;
  }

  byRoom(roomJid: string): Meeting | undefined {
    for (const m of this.#meetings) if (m.roomJid === roomJid) return m;
    return undefined;
  }

  /**
   * By the internal id a Redis event carries. A chat started with an external id learns its internal id
   * from the first event whose sha1 prefix matches; it is bound here, and `bound` tells the caller to store it.
   */
  forEvent(internalId: string): { meeting: Meeting; bound: boolean } | undefined {
    const known = this.#byInternal.get(internalId);
    if (known) return { meeting: known, bound: false };
    if (!looksInternal(internalId)) return undefined;
    const prefix = internalId.slice(0, internalId.indexOf('-') + 1);
    const m = this.#unbound.get(prefix);
    if (!m) return undefined;
    this.#unbound.delete(prefix);
    m.internalId = internalId;
    this.#byInternal.set(internalId, m);
    return { meeting: m, bound: true };
  }
}
