import type Router from '@koa/router';
import type { Element } from '@xmpp/xml';
import type { RouterContext } from '@koa/router';
import { BridgeError } from '../../errors/BridgeError.js';
import type { Log } from '../../log.js';
import type { EventHub } from '../../sse/EventHub.js';
import { openStream, type OpenStreamOptions } from '../../sse/openStream.js';
import { EVENT_NAMES, type DeliveredEvent } from '../../sse/events.js';
import type { UserSession } from '../../xmpp/client/UserSession.js';
import type { AccessDeps } from '../access.js';
import { callerOf, requireStream, requireUser } from '../access.js';
import type { RemoteSession } from '../../cluster/InstanceRegistry.js';
import { parseEventId, parseStreamId, parseUsername } from '../params.js';

export interface EventRoutesDeps extends AccessDeps {
  hub: EventHub;
  log: Log;
  heartbeatMs: number;
  /** sessions held by other gateway instances (cluster): their events arrive over the Redis bus */
  remote?: {
    remoteStream(streamId: string): Promise<RemoteSession | undefined>;
    remoteUser(username: string): Promise<RemoteSession | undefined>;
  };
}

/**
 * GET /restapi/v1/chat/{streamid}/events — the user's event stream (`?token=` for EventSource).
 * GET /sse/{username} — ofchat's path for the same stream (Basic as that user, or a token / master).
 * Every open stream of a user gets every event; Last-Event-ID (or ?lastEventId=) replays what was missed.
 */
export function eventRoutes(router: Router, deps: EventRoutesDeps): void {
  router.post('/restapi/v1/chat/:streamid/events/ticket', async (ctx) => {
    const session = await requireStream(ctx, deps, ctx.params.streamid!);
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = deps.tickets.issue(session.streamId);
  });

  router.get('/restapi/v1/chat/:streamid/events', async (ctx) => {
    const ticket = ctx.query.ticket;
    if (typeof ticket === 'string' && ticket) return streamByTicket(ctx, ticket);
    let session: UserSession;
    try {
      session = await requireStream(ctx, deps, ctx.params.streamid!);
    } catch (err) {
      const remote =
        err instanceof BridgeError && err.code === 'STREAM_NOT_FOUND'
          ? await deps.remote?.remoteStream(ctx.params.streamid!)
          : undefined;
      if (!remote) throw err;
      await authorizeRemote(ctx, remote);
      return remoteStream(ctx, remote);
    }
    await stream(ctx, session);
  });

  router.get('/sse/:username', async (ctx) => {
    const username = parseUsername(ctx.params.username!);
    await requireUser(ctx, deps, username);
    const session = deps.sessions.byUser(username);
    if (session) return stream(ctx, session, ofchatPresence);
    const remote = await deps.remote?.remoteUser(username);
    if (!remote) throw new BridgeError('STREAM_NOT_FOUND', `${username} has no live session; log in first`);
    await remoteStream(ctx, remote, ofchatPresence);
  });

  /** A ticket stands in for the credentials: it was issued, moments ago, to a caller allowed on this stream. */
  async function streamByTicket(ctx: RouterContext, ticket: string): Promise<void> {
    const streamId = parseStreamId(ctx.params.streamid!);
    if (!deps.tickets.redeem(ticket, streamId))
      throw new BridgeError('BAD_CREDENTIALS', 'unknown, used or expired stream ticket; ask for a new one');
    const session = deps.sessions.get(streamId);
    if (session) {
      session.touch();
      return stream(ctx, session);
    }
    const remote = await deps.remote?.remoteStream(streamId);
    if (!remote) throw new BridgeError('STREAM_NOT_FOUND', `no live session with stream id ${streamId}`);
    return remoteStream(ctx, remote);
  }

  /** The same checks as requireStream, against the database: the session lives on another instance. */
  async function authorizeRemote(ctx: RouterContext, remote: RemoteSession): Promise<void> {
    const caller = callerOf(ctx);
    if (caller.kind === 'token') {
      const owner = await deps.sessions.tokenOwner(caller);
      if (!owner) throw new BridgeError('BAD_CREDENTIALS', 'unknown session token');
      if (owner.streamId !== remote.streamId)
        throw new BridgeError('NOT_YOUR_STREAM', 'this token was issued for another stream');
      return;
    }
    await requireUser(ctx, deps, remote.username);
  }

  /** A stream for a session on another instance: live events come over the bus, replay from Postgres. */
  async function remoteStream(
    ctx: RouterContext,
    remote: RemoteSession,
    map?: (e: DeliveredEvent) => DeliveredEvent,
  ): Promise<void> {
    let unsubscribe = (): void => undefined;
    const until = new Promise<void>((resolve) => {
      unsubscribe = deps.hub.subscribe(remote.username, (e) => {
        if (
          e.name === EVENT_NAMES.session &&
          e.payload.type === 'offline' &&
          e.payload.streamId === remote.streamId
        )
          resolve();
      });
    });
    await openStream(ctx, deps.hub, deps.log, {
      username: remote.username,
      lastEventId: lastEventIdOf(ctx),
      heartbeatMs: deps.heartbeatMs,
      snapshot: () => [
        {
          name: EVENT_NAMES.session,
          payload: { type: remote.state, streamId: remote.streamId, jid: remote.jid, snapshot: true },
        },
      ],
      onClose: () => unsubscribe(),
      until,
      map,
    });
  }

  async function stream(
    ctx: RouterContext,
    session: UserSession,
    map?: (e: DeliveredEvent) => DeliveredEvent,
  ): Promise<void> {
    const raw = ctx.query.raw === '1' || ctx.query.raw === 'true';
    await openStream(ctx, deps.hub, deps.log, new SessionStream(session, deps, lastEventIdOf(ctx), raw, map));
  }
}

/**
 * The options of a stream of a session held here. Methods, not closures per stream: thousands of streams
 * are the point (bench/JOURNAL.md, "Memory at 10,000 sessions").
 */
class SessionStream implements OpenStreamOptions {
  readonly username: string;
  readonly heartbeatMs: number;
  readonly until: Promise<void>;
  readonly tap?: OpenStreamOptions['tap'];
  readonly #ended: () => void;

  constructor(
    private readonly session: UserSession,
    private readonly deps: Pick<EventRoutesDeps, 'hub' | 'heartbeatMs'>,
    readonly lastEventId: string | undefined,
    raw: boolean,
    readonly map?: (e: DeliveredEvent) => DeliveredEvent,
  ) {
    this.username = session.username;
    this.heartbeatMs = deps.heartbeatMs;
    let ended!: () => void;
    this.until = new Promise<void>((resolve) => {
      ended = resolve;
      session.once('ended', resolve);
    });
    this.#ended = ended;
    if (raw) this.tap = (push) => rawTap(session, push);
  }

  snapshot(): DeliveredEvent[] {
    return [sessionSnapshot(this.session), ...this.deps.hub.snapshot(this.session.username)];
  }

  onOpen(): void {
    this.session.openStreams++;
    this.session.touch();
  }

  onClose(): void {
    this.session.openStreams--;
    this.session.touch();
    this.session.off('ended', this.#ended);
  }
}

/**
 * ofchat's own stream (`/sse/{username}`): its presence events say `"type": "presence"`
 * (OpenfireConnection.processMessageStanza); the presence's own type moves to `presence`, so nothing is lost.
 */
export function ofchatPresence(e: DeliveredEvent): DeliveredEvent {
  if (e.name !== EVENT_NAMES.presence) return e;
  return { ...e, payload: { ...e.payload, type: 'presence', presence: e.payload.type } };
}

function lastEventIdOf(ctx: RouterContext): string | undefined {
  const q = ctx.query.lastEventId;
  return parseEventId(ctx.get('Last-Event-ID') || (typeof q === 'string' ? q : undefined));
}

/** Opt-in (`?raw=1`) per stream: every stanza the session receives, as ofchat's `chatapi.xmpp` (ephemeral). */
function rawTap(session: UserSession, push: (e: DeliveredEvent) => void): () => void {
  const onStanza = (el: Element): void =>
    push({ name: EVENT_NAMES.xmpp, payload: { xmpp: Buffer.from(el.toString()).toString('base64') } });
  session.on('stanza', onStanza);
  return () => {
    session.off('stanza', onStanza);
  };
}

/** Ephemeral: where the session stands right now (no id, so it never moves the replay cursor). */
function sessionSnapshot(session: UserSession): DeliveredEvent {
  return {
    name: EVENT_NAMES.session,
    payload: {
      // 'connecting' is internal: a session restored after a gateway restart, not yet logged in again
      // (its STARTTLS and SASL may take a moment) is, to the client, on its way back.
      type: session.state === 'connecting' ? 'reconnecting' : session.state,
      streamId: session.streamId,
      jid: session.bareJid,
      snapshot: true,
    },
  };
}
