import type { Context, Next } from 'koa';
import type { SendConcurrency } from '../../limits/SendConcurrency.js';
import { IndexedRouter } from '../IndexedRouter.js';

/** Every send route names the stream first: the door finds the session by it. */
const STREAM_PREFIX = '/restapi/v1/chat/:streamid/';

export interface ShedDeps {
  /** the session this instance holds for a stream id (a cluster passes the others' sends on) */
  sessionOf: (streamId: string) => { refuseIfBehind(): void } | undefined;
  /** the send routes' templates (Feature.sendRoutes: ChatService.send, RoomService.post, sendPrivate) */
  routes: readonly string[];
  /** those answered once this instance did its own work (Feature.timedSendRoutes): counted by `concurrency` */
  timedRoutes?: readonly string[];
  /** the adaptive bound on timed sends in progress (PARLEY_SEND_TARGET_MS); none: not bounded */
  concurrency?: Pick<SendConcurrency, 'acquire'>;
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
 * A timed send of a session held here also takes a place of the adaptive bound on sends in progress
 * (limits/SendConcurrency.ts: 503 GATEWAY_BUSY), given back once it has its answer; a send for a session
 * held by another instance is that instance's to count.
 */
export function shedSends(deps: ShedDeps) {
  const sends = new IndexedRouter();
  const timed = new Set(deps.timedRoutes ?? []);
  for (const route of deps.routes) {
    if (!route.startsWith(STREAM_PREFIX))
      throw new Error(`send route ${route} does not start with ${STREAM_PREFIX}`);
    sends.post(route, () => undefined);
  }
  for (const route of timed)
    if (!deps.routes.includes(route)) throw new Error(`timed send route ${route} is not a send route`);
  const concurrency = deps.concurrency;
  return async function shed(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST') return next();
    const match = sends.match(ctx.path, 'POST');
    if (!match.route) return next();
    const session = deps.sessionOf(streamIdOf(ctx.path.split('/')[4]!));
    if (!session) return next();
    session.refuseIfBehind();
    if (!concurrency || !match.pathAndMethod.some((l) => typeof l.path === 'string' && timed.has(l.path)))
      return next();
    const release = concurrency.acquire(session);
    try {
      await next();
    } finally {
      release();
    }
  };
}

function streamIdOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
