import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import { BridgeError } from '../../errors/BridgeError.js';
import type { Log } from '../../log.js';
import type { EventHub } from '../../sse/EventHub.js';
import { openStream } from '../../sse/openStream.js';
import { EVENT_NAMES, type DeliveredEvent } from '../../sse/events.js';
import type { UserSession } from '../../xmpp/client/UserSession.js';
import type { AccessDeps } from '../access.js';
import { requireStream, requireUser } from '../access.js';
import { parseEventId, parseUsername } from '../params.js';

export interface EventRoutesDeps extends AccessDeps { hub: EventHub; log: Log; heartbeatMs: number }

/**
 * GET /restapi/v1/chat/{streamid}/events — the user's event stream (`?token=` for EventSource).
 * GET /sse/{username} — ofchat's path for the same stream (Basic as that user, or a token / master).
 * Every open stream of a user gets every event; Last-Event-ID (or ?lastEventId=) replays what was missed.
 */
export function eventRoutes(router: Router, deps: EventRoutesDeps): void {
  router.get('/restapi/v1/chat/:streamid/events', async (ctx) => {
    const session = await requireStream(ctx, deps, ctx.params.streamid!);
    await stream(ctx, session);
  });

  router.get('/sse/:username', async (ctx) => {
    const username = parseUsername(ctx.params.username!);
    await requireUser(ctx, deps, username);
    const session = deps.sessions.byUser(username);
    if (!session) throw new BridgeError('STREAM_NOT_FOUND', `${username} has no live session; log in first`);
    await stream(ctx, session);
  });

  async function stream(ctx: RouterContext, session: UserSession): Promise<void> {
    const q = ctx.query.lastEventId;
    const lastEventId = parseEventId(ctx.get('Last-Event-ID') || (typeof q === 'string' ? q : undefined));
    let ended = (): void => undefined;
    const until = new Promise<void>((resolve) => { ended = resolve; session.once('ended', ended); });
    await openStream(ctx, deps.hub, deps.log, {
      username: session.username,
      lastEventId,
      heartbeatMs: deps.heartbeatMs,
      snapshot: () => [sessionSnapshot(session)],
      onOpen: () => { session.openStreams++; session.touch(); },
      onClose: () => { session.openStreams--; session.touch(); session.off('ended', ended); },
      until,
    });
  }
}

/** Ephemeral: where the session stands right now (no id, so it never moves the replay cursor). */
function sessionSnapshot(session: UserSession): DeliveredEvent {
  return { name: EVENT_NAMES.session, payload: { type: session.state === 'online' ? 'online' : session.state, streamId: session.streamId, jid: session.bareJid, snapshot: true } };
}
