import type { Context, Next } from 'koa';
import { IndexedRouter } from '../IndexedRouter.js';

/** Every send route names the stream first: the door finds the session by it. */
const STREAM_PREFIX = '/restapi/v1/chat/:streamid/';

export interface ShedDeps {
  /** the session this instance holds for a stream id (a cluster passes the others' sends on) */
  sessionOf: (streamId: string) => { refuseIfBehind(): void } | undefined;
  /** the send routes' templates (Feature.sendRoutes: ChatService.send, RoomService.post, sendPrivate) */
  routes: readonly string[];
}

/**
 * Backpressure at the door. While the session a send is for, or the whole instance, is behind
 * (SessionBacklog.check: 429 SEND_QUEUE_FULL / 503 XMPP_BACKLOG with Retry-After, counted like every
 * refusal), the send is refused here, before its token is checked, its body read or a route matched.
 * Past the knee most requests are refusals, and each that went the whole way cost the gateway about
 * half of what a delivered message does: refusing was what saturated it, and the latency of what it still
 * accepted grew with the load offered (bench/JOURNAL.md, "Refusals at the door"). A send let through
 * meets the same bounds again when it is admitted (UserSession.admitSend), which holds its place.
 * The features' own templates are matched by a router of their own, made as the app's is, so a send
 * route and its door cannot drift apart.
 */
export function shedSends(deps: ShedDeps) {
  const sends = new IndexedRouter();
  for (const route of deps.routes) {
    if (!route.startsWith(STREAM_PREFIX))
      throw new Error(`send route ${route} does not start with ${STREAM_PREFIX}`);
    sends.post(route, () => undefined);
  }
  return async function shed(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'POST' && sends.match(ctx.path, 'POST').route)
      deps.sessionOf(streamIdOf(ctx.path.split('/')[4]!))?.refuseIfBehind();
    await next();
  };
}

function streamIdOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
