import type { Context } from 'koa';
import { createSession } from 'better-sse';
import type { Log } from '../log.js';
import type { EventHub } from './EventHub.js';
import type { DeliveredEvent } from './events.js';
import { BridgeError } from '../errors/BridgeError.js';
import { toProblem } from '../http/middleware/errorHandler.js';

export interface OpenStreamOptions {
  username: string;
  /** replay durable events after this id before going live */
  lastEventId?: string;
  heartbeatMs: number;
  /** sent first (no id): the current state, e.g. a chatapi.session snapshot */
  snapshot?: () => DeliveredEvent[];
  /** an extra live source for this stream only (e.g. the opt-in raw XMPP tap); returns its unsubscribe */
  tap?: (push: (e: DeliveredEvent) => void) => () => void;
  onOpen?: () => void;
  onClose?: () => void;
  /** resolve to end the stream from the server side (e.g. the session was logged off) */
  until?: Promise<void>;
}

/**
 * One SSE response. Live events are buffered while the replay runs, then the buffer is flushed without
 * the ones the replay already sent, so nothing is lost or doubled at the seam. Heartbeat comments keep
 * proxies from closing idle streams; the retry hint tells browsers how soon to come back.
 */
export async function openStream(ctx: Context, hub: EventHub, log: Log, opts: OpenStreamOptions): Promise<void> {
  ctx.respond = false;
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  let buffered: DeliveredEvent[] | undefined = [];
  let lastSent = BigInt(opts.lastEventId ?? '0');
  let send: (e: DeliveredEvent) => void = () => undefined;
  const unsubscribe = hub.subscribe(opts.username, (e) => (buffered ? buffered.push(e) : send(e)));
  const untap = opts.tap?.((e) => (buffered ? buffered.push(e) : send(e)));
  try {
    const session = await createSession(ctx.req, ctx.res, {
      trustClientEventId: false, // Parley parses Last-Event-ID itself (digits only)
      statusCode: 200, // Koa's default status is 404 until a body is set
      keepAlive: opts.heartbeatMs,
      retry: 2000,
      headers: { 'X-Accel-Buffering': 'no', 'Cache-Control': 'no-cache, no-transform' },
    });
    send = (e) => {
      if (!session.isConnected) return;
      if (e.id !== undefined) {
        if (BigInt(e.id) <= lastSent) return;
        lastSent = BigInt(e.id);
        session.push(e.payload, e.name, e.id);
      } else {
        void session.batch((b) => { b.event(e.name).data(e.payload).dispatch(); });
      }
    };
    opts.onOpen?.();
    // On shutdown: ask the browser to come back in a second (to another instance), then end.
    const untrack = hub.trackStream(() => {
      if (!session.isConnected) return;
      void session.batch((b) => { b.retry(1000).comment('parley is restarting; reconnect').dispatch(); }).finally(() => ctx.res.end());
    });
    session.once('disconnected', () => { unsubscribe(); untap?.(); untrack(); opts.onClose?.(); });
    // End only once the replay and the buffered live events are out: the last event (e.g. `offline`
    // on logoff) may still sit in the buffer when the end is signalled.
    let flushed = (): void => undefined;
    const flushedOnce = new Promise<void>((resolve) => { flushed = resolve; });
    void Promise.all([opts.until, flushedOnce]).then(() => { if (opts.until && session.isConnected) ctx.res.end(); });
    for (const e of opts.snapshot?.() ?? []) send(e);
    if (opts.lastEventId !== undefined) {
      for await (const e of hub.replay(opts.username, opts.lastEventId)) {
        if (!session.isConnected) break;
        send(e);
      }
    }
    const pending = buffered;
    buffered = undefined;
    for (const e of pending) send(e);
    flushed();
  } catch (err) {
    unsubscribe();
    untap?.();
    log.warn({ err }, 'event stream failed');
    if (ctx.res.headersSent) { ctx.res.destroy(); return; }
    const problem = toProblem(new BridgeError('DATABASE_UNAVAILABLE', 'the event stream could not be opened; retry shortly'), ctx.state.requestId as string);
    ctx.res.writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': '5' });
    ctx.res.end(JSON.stringify(problem));
  }
}
