import type { Feature, FeatureContext } from '../features.js';
import { ChatService } from './ChatService.js';
import { catchUp } from './catchUp.js';
import { chatRoutes } from './routes.js';

/** 1:1 chat: send, receive (live, carbons, archive catch-up), history, chat states, receipts, unread. */
export function createChatFeature(ctx: FeatureContext): Feature {
  const log = ctx.log.child({ c: 'chat' });
  const { messages } = ctx;
  const chat = new ChatService({ messages, hub: ctx.hub, log, domain: ctx.config.xmpp.domain });
  ctx.stanzas.on('message', 'chat', (session, stanza) => chat.onMessage(session, stanza));
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
    routes: (router, access) =>
      chatRoutes(router, access, {
        chat,
        db: ctx.db,
        messages,
        domain: ctx.config.xmpp.domain,
        mucService: ctx.config.xmpp.mucService,
      }),
  };
}
