/**
 * What moderation offers the rest of the gateway. Features that send on a user's behalf ask the
 * SendPolicy first, where the sending happens (not by URL), so every route that reaches the same
 * service is covered however its path is spelled.
 */
export interface SendPolicy {
  /**
   * Resolves when the user may send (messages, chat states, room posts and invitations, presence,
   * raw stanzas, calls); rejects with FORBIDDEN (403) when an administrator muted or disabled them.
   */
  assertMaySend(username: string): Promise<void>;
}

/** Asked before a login or a session restore opens an XMPP session: a disabled account gets none. */
export interface LoginPolicy {
  /** rejects with FORBIDDEN (403) for a disabled account */
  assertMayLogin(username: string): Promise<void>;
}

/** A policy that allows everything: for tests and tools that run features without moderation. */
export const ALLOW_ALL: SendPolicy & LoginPolicy = {
  assertMaySend: async () => undefined,
  assertMayLogin: async () => undefined,
};
