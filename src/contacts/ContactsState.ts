import type { UserSession } from '../xmpp/client/UserSession.js';
import { DEFAULT_PRESENCE, type OwnPresence, type PresenceEvent } from './presence.js';
import type { RosterItem } from './roster.js';

/** What Parley knows about one session's contacts right now; it lives as long as the session. */
export interface SessionContacts {
  /** the roster as the server last sent it; undefined until the first roster get answered */
  roster?: Map<string, RosterItem>;
  /** latest available presence per full JID (a bare-JID sender is kept under its bare JID) */
  presence: Map<string, { event: PresenceEvent; at: number }>;
  /** what the user last set, re-sent after a reconnect that could not resume the XMPP stream */
  own: OwnPresence;
  /** when the XMPP connection last dropped: presence received before it is stale after a fresh login */
  droppedAt?: number;
}

/**
 * Per-session contact state, keyed by stream id (a new login of the same user is a new session and
 * starts empty). Cleared when the session ends.
 */
export class ContactsState {
  readonly #bySession = new Map<string, SessionContacts>();

  of(session: Pick<UserSession, 'streamId'>): SessionContacts {
    let s = this.#bySession.get(session.streamId);
    if (!s) this.#bySession.set(session.streamId, (s = { presence: new Map(), own: DEFAULT_PRESENCE }));
    return s;
  }

  peek(streamId: string): SessionContacts | undefined {
    return this.#bySession.get(streamId);
  }

  forget(streamId: string): void {
    this.#bySession.delete(streamId);
  }
}
