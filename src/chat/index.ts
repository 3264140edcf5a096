import type { Feature, GatewayContext } from '../feature.js';
import type { SessionManager } from '../sessions/SessionManager.js';
import type { SendPolicy } from '../moderation/ports.js';
import type { MessageFiles } from '../attachments/index.js';
import { ChatService } from './ChatService.js';
import { catchUp } from './catchUp.js';
import { chatRoutes, SEND_ROUTE } from './routes.js';
import type { TransitDelay } from '../xmpp/client/TransitDelay.js';

// The chat feature's public entry: what other features may use of it.
export { unwrap } from './inbound.js';
export { parseHistoryDate } from './history.js';

export type ChatFeatureDeps = Pick<GatewayContext, 'config' | 'log' | 'hub' | 'stanzas' | 'messages'> & {
  sessions: Pick<SessionManager, 'onSessionReady' | 'byUser' | 'outbound'>;
  sendPolicy: SendPolicy;
  files: MessageFiles;
};

/**
 * The session a receipt can be recorded for without the XMPP round trip: the sender's own session on
 * this instance (its full JID, so an older session of the same user does not count), online, and the
 * account's only client (another client shows ticks from the receipt stanza, which then still goes out).
 */
function localSender(sessions: Pick<SessionManager, 'byUser'>) {
  return (fullJid: string) => {
    const at = fullJid.indexOf('@');
    const s = at > 0 ? sessions.byUser(fullJid.slice(0, at).toLowerCase()) : undefined;
    return s && s.fullJid === fullJid && s.isOnline && !s.otherResourcesOnline ? s : undefined;
  };
}

/** Times only messages whose recipient has a session here: no other arrives here to be timed. */
function localTransit(
  sessions: Pick<SessionManager, 'byUser'>,
  transit: Pick<TransitDelay, 'sent' | 'arrived'>,
) {
  return {
    sent(id: string, toBare: string) {
      const at = toBare.indexOf('@');
      if (at > 0 && sessions.byUser(toBare.slice(0, at))?.isOnline) transit.sent(id);
    },
    arrived: (id: string) => transit.arrived(id),
  };
}

/** 1:1 chat: send, receive (live, carbons, archive catch-up), history, chat states, receipts, unread. */
export function createChatFeature(ctx: ChatFeatureDeps): Feature {
  const log = ctx.log.child({ c: 'chat' });
  const { messages } = ctx;
  const chat = new ChatService({
    messages,
    hub: ctx.hub,
    log,
    domain: ctx.config.xmpp.domain,
    policy: ctx.sendPolicy,
    ...(ctx.config.chat.localReceipts ? { localSender: localSender(ctx.sessions) } : {}),
    ...(ctx.sessions.outbound ? { transit: localTransit(ctx.sessions, ctx.sessions.outbound.transit) } : {}),
  });
  // Every 1:1 message nobody else claims: rooms own what rooms send, calls own call signalling (JMI).
  ctx.stanzas.on({ feature: 'chat', kind: 'message' }, (session, stanza, defer) =>
    chat.onMessage(session, stanza, defer),
  );
  ctx.sessions.onSessionReady(async (session, resumed) => {
    if (resumed) return; // XEP-0198 resumption lost nothing
    await chat
      .enableCarbons(session)
      .catch((err) => log.warn({ err, user: session.username }, 'carbons not enabled'));
    await catchUp(
      session,
      { messages, drain: (s) => ctx.stanzas.drain(s), log },
      { firstLoginDays: ctx.config.chat.catchUpDays, pageSize: 100, maxPages: 50 },
    );
  });
  return {
    name: 'chat',
    sendRoutes: [SEND_ROUTE],
    timedSendRoutes: [SEND_ROUTE],
    routes: (router, access) =>
      chatRoutes(router, access, {
        chat,
        files: ctx.files,
        messages,
        domain: ctx.config.xmpp.domain,
        mucService: ctx.config.xmpp.mucService,
      }),
  };
}
