import type { Context, Next } from 'koa';
import type { SendConcurrency } from '../../limits/SendConcurrency.js';
import { IndexedRouter } from '../IndexedRouter.js';

/** Every send route names the stream first: the door finds the session by it. */
const STREAM_PREFIX = '/restapi/v1/chat/:streamid/';

interface Behind {
  refuseIfBehind(): void;
}

export interface ShedDeps {
  /** the session this instance holds for a stream id (a cluster passes the others' sends on) */
  sessionOf: (streamId: string) => Behind | undefined;
  /** the send routes' templates (Feature.sendRoutes: ChatService.send, RoomService.post, sendPrivate) */
  routes: readonly string[];
  /** those answered once this instance did its own work (Feature.timedSendRoutes): counted by `concurrency` */
  timedRoutes?: readonly string[];
  /** the adaptive bound on timed sends in progress (PARLEY_SEND_TARGET_MS); none: not bounded */
  concurrency?: Pick<SendConcurrency, 'acquire' | 'check'>;
}

/** A send this instance holds the session for: which route template it matched, and whether it is timed. */
export interface SendAtDoor {
  route: string;
  session: Behind;
  timed: boolean;
}

/**
 * Which requests are sends, and whether one must be refused now. Shared by the middleware below and the
 * server's request listener (http/earlyRefusals.ts), so both refuse the same sends for the same reasons.
 * The features' own templates are matched by a router of their own, made as the app's is, so a send
 * route and its door cannot drift apart.
 */
export class SendDoor {
  readonly #sends = new IndexedRouter();
  readonly #timed: ReadonlySet<string>;
  /** what the server's listener found for a request it let through, so the middleware does not look again */
  readonly #found = new WeakMap<object, { path: string; send: SendAtDoor }>();

  constructor(private readonly deps: ShedDeps) {
    this.#timed = new Set(deps.timedRoutes ?? []);
    for (const route of deps.routes) {
      if (!route.startsWith(STREAM_PREFIX))
        throw new Error(`send route ${route} does not start with ${STREAM_PREFIX}`);
      this.#sends.post(route, () => undefined);
    }
    for (const route of this.#timed)
      if (!deps.routes.includes(route)) throw new Error(`timed send route ${route} is not a send route`);
  }

  /**
   * The send `method` + `path` (no query) is, when it is one and this instance holds its session. With
   * `req`, the send `remember`ed for that request and path is given instead of matching again (a path
   * rewritten since, by the ofchat face, is matched anew).
   */
  find(method: string, path: string, req?: object): SendAtDoor | undefined {
    const known = req && this.#found.get(req);
    if (known && known.path === path) return known.send;
    if (method !== 'POST') return undefined;
    const routes = this.#sends
      .match(path, 'POST')
      .pathAndMethod.flatMap((l) => (typeof l.path === 'string' ? [l.path] : []));
    if (!routes.length) return undefined;
    const session = this.deps.sessionOf(streamIdOf(path.split('/')[4]!));
    if (!session) return undefined;
    const timed = !!this.deps.concurrency && routes.some((r) => this.#timed.has(r));
    return { route: routes[0]!, session, timed };
  }

  /** Keeps the send `find` found at `path` for a request that goes on to the middleware (looked up once). */
  remember(req: object, path: string, send: SendAtDoor): void {
    this.#found.set(req, { path, send });
  }

  /** Throws the refusal (BridgeError, with Retry-After) a send found by `find` gets now, taking no place. */
  check(send: SendAtDoor): void {
    send.session.refuseIfBehind();
    if (send.timed) this.deps.concurrency!.check(send.session);
  }

  /** Takes a place of the bound for a timed send (throws past it); the returned function gives it back. */
  enter(send: SendAtDoor): () => void {
    send.session.refuseIfBehind();
    return send.timed ? this.deps.concurrency!.acquire(send.session) : () => undefined;
  }
}

/**
 * Backpressure at the door. While the session a send is for, or the whole instance, is behind
 * (SessionBacklog.check: 429 SEND_QUEUE_FULL / 503 XMPP_BACKLOG with Retry-After, counted like every
 * refusal), the send is refused here, before its token is checked, its body read or a route matched.
 * Past the knee most requests are refusals, and each that went the whole way cost the gateway about
 * half of what a delivered message does: refusing was what saturated it, and the latency of what it still
 * accepted grew with the load offered (bench/JOURNAL.md, "Refusals at the door"). A send let through
 * meets the same bounds again when it is admitted (UserSession.admitSend), which holds its place.
 * A timed send of a session held here also takes a place of the adaptive bound on sends in progress
 * (limits/SendConcurrency.ts: 503 GATEWAY_BUSY), given back once it has its answer; a send for a session
 * held by another instance is that instance's to count. Most refusals never get here: the server's request
 * listener asks the same door first (http/earlyRefusals.ts); this one answers the rest (browsers' requests,
 * whose CORS headers are Koa's) and holds the places.
 */
export function shedSends(deps: ShedDeps | SendDoor) {
  const door = deps instanceof SendDoor ? deps : new SendDoor(deps);
  return async function shed(ctx: Context, next: Next): Promise<void> {
    const send = door.find(ctx.method, ctx.path, ctx.req);
    if (!send) return next();
    let release: () => void;
    try {
      release = door.enter(send);
    } catch (err) {
      // the metrics label a refusal with the route it was for, as if the router had matched it
      (ctx as Context & { _matchedRoute?: string })._matchedRoute = send.route;
      throw err;
    }
    try {
      await next();
    } finally {
      release();
    }
  };
}

export function streamIdOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
