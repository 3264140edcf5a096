import type { Log } from '../log.js';
import type { SessionState, UserSession } from '../xmpp/client/UserSession.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES, type SessionEventPayload } from '../sse/events.js';
import type { LiveSessionRow, SessionStore } from './SessionStore.js';

export interface AnnouncerDeps {
  store: Pick<SessionStore, 'setState'>;
  hub: Pick<EventHub, 'publish'>;
  log: Log;
}

/**
 * A session's state goes to the store and, as a durable `chatapi.session` event, to the user's streams:
 * clients learn from it that their session went online, is reconnecting, or ended and why.
 */
export class SessionAnnouncer {
  constructor(private readonly deps: AnnouncerDeps) {}

  /** `stored`: the store already has this state (a new session's row is created online). */
  async announce(
    session: UserSession,
    state: Exclude<SessionState, 'connecting'>,
    reason?: string,
    stored = false,
  ): Promise<void> {
    try {
      if (!stored) await this.deps.store.setState(session.streamId, state);
      const payload: SessionEventPayload = {
        type: state,
        streamId: session.streamId,
        jid: session.bareJid,
        ...(reason ? { reason } : {}),
      };
      await this.deps.hub.publish(session.username, EVENT_NAMES.session, payload, { durable: true });
    } catch (err) {
      this.deps.log.warn({ err, streamId: session.streamId, state }, 'could not record session state');
    }
  }

  /** A stored session that never became live here (not restored, not adopted): it ends. */
  async endRow(row: LiveSessionRow, reason: string): Promise<void> {
    await this.deps.store.setState(row.streamId, 'offline');
    const payload: SessionEventPayload = { type: 'offline', streamId: row.streamId, jid: row.jid, reason };
    await this.deps.hub.publish(row.username, EVENT_NAMES.session, payload, { durable: true });
  }
}
