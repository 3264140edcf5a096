import type { Context, Next } from 'koa';

/**
 * The routes that send a message through a user's session (ChatService.send, RoomService.post and
 * sendPrivate), matched as the router matches them: any case, an optional trailing slash.
 */
const SEND =
  /^\/restapi\/v1\/chat\/([^/]+)\/(?:messages\/[^/]+|rooms\/[^/]+(?:\/occupants\/[^/]+\/messages)?)\/?$/i;

export interface ShedDeps {
  /** the session this instance holds for a stream id (a cluster passes the others' sends on) */
  sessionOf: (streamId: string) => { refuseIfBehind(): void } | undefined;
}

/**
 * Backpressure at the door. While the session a send is for, or the whole instance, is behind
 * (SessionBacklog.check: 429 SEND_QUEUE_FULL / 503 XMPP_BACKLOG with Retry-After, counted like every
 * refusal), the send is refused here, before its token is checked, its body read or a route matched.
 * Past the knee most requests are refusals, and each that went the whole way cost the gateway about
 * half of what a delivered message does: refusing was what saturated it, and the latency of what it still
 * accepted grew with the load offered (bench/README.md, "Refusals at the door"). A send let through
 * meets the same bounds again when it is admitted (UserSession.admitSend), which holds its place.
 */
export function shedSends(deps: ShedDeps) {
  return async function shed(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'POST') {
      const m = SEND.exec(ctx.path);
      if (m) deps.sessionOf(streamIdOf(m[1]!))?.refuseIfBehind();
    }
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
