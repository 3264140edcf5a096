import type { EventHub } from '../sse/EventHub.js';
import type { Log } from '../log.js';
import type { MessageLog } from '../messages/MessageLog.js';
import type { SendPolicy } from '../moderation/ports.js';
import type { UserSession } from '../xmpp/client/UserSession.js';

/** What chat needs of a user's XMPP session (UserSession fits; unit tests pass a small fake). */
export type ChatSession = Pick<
  UserSession,
  'username' | 'bareJid' | 'fullJid' | 'isOnline' | 'send' | 'iq' | 'admitSend'
>;

/** What 1:1 chat is built from (ChatService for what users send, ChatInbound for what reaches them). */
export interface ChatDeps {
  messages: Pick<MessageLog, 'append' | 'receipt' | 'markRead' | 'findIncoming' | 'findOutgoing' | 'unread'>;
  hub: Pick<EventHub, 'publish'>;
  log: Log;
  domain: string;
  policy: SendPolicy;
  /**
   * The sender's session when it lives on this instance, is the only client of its account and a
   * receipt can be recorded for it directly (PARLEY_LOCAL_RECEIPTS); otherwise the receipt is a stanza.
   */
  localSender?: (fullJid: string) => ChatSession | undefined;
  /**
   * Times messages between two users of this instance, send to stored (backpressure: TransitDelay);
   * `sent` records only those whose recipient has a session here.
   */
  transit?: { sent(id: string, toBare: string): void; arrived(id: string): unknown };
}
