import type { Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import type { UserSession } from './client/UserSession.js';

/**
 * Inbound stanzas of every user session, routed to the features that registered for them.
 * Handlers run in registration order; one that returns true has consumed the stanza.
 */
export type StanzaHandler = (
  session: UserSession,
  stanza: Element,
) => boolean | void | Promise<boolean | void>;
type Kind = 'message' | 'presence' | 'iq';

export class StanzaRouter {
  readonly #handlers: { kind: Kind; name: string; handle: StanzaHandler }[] = [];
  readonly #tails = new WeakMap<UserSession, Promise<void>>();
  constructor(private readonly log: Log) {}

  /**
   * Feeds a session's stanzas through the handlers one at a time, in arrival order, so what is
   * stored (and its event ids) keeps the order the server sent it in.
   */
  attach(session: UserSession): void {
    session.on('stanza', (el) => {
      const tail = (this.#tails.get(session) ?? Promise.resolve()).then(() => this.dispatch(session, el));
      this.#tails.set(session, tail);
    });
  }

  /** Resolves once every stanza received so far has been handled (e.g. after a MAM query's <fin/>). */
  drain(session: UserSession): Promise<void> {
    return this.#tails.get(session) ?? Promise.resolve();
  }

  on(kind: Kind, name: string, handle: StanzaHandler): void {
    this.#handlers.push({ kind, name, handle });
  }

  async dispatch(session: UserSession, stanza: Element): Promise<void> {
    for (const h of this.#handlers) {
      if (h.kind !== stanza.name) continue;
      try {
        if (await h.handle(session, stanza)) return;
      } catch (err) {
        this.log.warn({ err, handler: h.name, streamId: session.streamId }, 'stanza handler failed');
      }
    }
  }
}
