import type { ServerResponse } from 'node:http';
import { Heartbeats } from './Heartbeats.js';
import type { Context } from 'koa';
import type { Log } from '../log.js';
import type { EventHub } from './EventHub.js';
import type { DeliveredEvent } from './events.js';
import { BridgeError } from '../errors/BridgeError.js';
import { toProblem } from '../errors/problem.js';

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
  /** rewrites each event as this stream's clients expect it (ofchat's /sse/{username} form) */
  map?: (e: DeliveredEvent) => DeliveredEvent;
}

const byId = (a: DeliveredEvent, b: DeliveredEvent): number => {
  const x = BigInt(a.id!),
    y = BigInt(b.id!);
  return x < y ? -1 : x > y ? 1 : 0;
};

// Frames are written by hand (the format is four field names; JSON.stringify leaves no raw newline to escape):
// a library session per stream (timers, emitters, fetch Request/Response/Headers objects) cost more memory
// than the rest of the stream, and thousands of streams are the point.
const frame = (e: DeliveredEvent): string =>
  e.id !== undefined
    ? `event:${e.name}\nid:${e.id}\ndata:${JSON.stringify(e.payload)}\n\n`
    : `event:${e.name}\ndata:${JSON.stringify(e.payload)}\n\n`;

const heldSize = (e: DeliveredEvent): number => e.name.length + JSON.stringify(e.payload).length + 32;

/** Replayed history goes out this many events at a time, the next page only once the client has read the last. */
const REPLAY_PAGE = 100;
/**
 * Live events held for a stream still replaying; a client that stops reading mid-replay is dropped past
 * it, or once the held events' frames pass the stream's byte limit (whichever comes first).
 */
const MAX_HELD = 1000;

/** One set of heartbeats per interval for every open stream, instead of a timer per stream. */
const heartbeats = new Map<number, Heartbeats<Outlet>>();
function beatEvery(ms: number, out: Outlet): () => void {
  let hb = heartbeats.get(ms);
  if (!hb) heartbeats.set(ms, (hb = new Heartbeats<Outlet>(ms)));
  hb.add(out);
  return () => {
    // The last stream out stops the timer; a later one of the same interval starts a new set.
    if (hb.delete(out) && heartbeats.get(ms) === hb) heartbeats.delete(ms);
  };
}

/** Writes of one tick go out as one packet (a replayed page, an event and its receipt): cork until the next tick. */
function uncork(res: ServerResponse): void {
  res.uncork();
}

/**
 * What one stream keeps: its response, the live events held back while it replays, and the last id sent.
 * Methods rather than per-stream closures: thousands of streams are the point.
 */
class Outlet {
  readonly buffered: DeliveredEvent[] = [];
  /** the size of `buffered`'s frames, near enough: what a replay stalled by its reader holds in memory */
  heldBytes = 0;
  live = false;
  connected = false;
  lastSent: bigint;
  constructor(
    readonly res: ServerResponse,
    lastEventId: string | undefined,
    private readonly maxBufferBytes: number,
    private readonly log: Log,
    private readonly map?: (e: DeliveredEvent) => DeliveredEvent,
  ) {
    this.lastSent = BigInt(lastEventId ?? '0');
  }

  take(e: DeliveredEvent): void {
    if (this.live) return this.send(e);
    // A replay waits for its reader page by page; one that stopped reading would otherwise hold every
    // live event meanwhile. Only then do the held bytes count: while a page is read from the database the
    // wait is the server's, and a drop would have the client come back to the same replay.
    this.heldBytes += heldSize(e);
    if (this.buffered.push(e) > MAX_HELD) this.drop('live events held past the limit during replay');
    else if (this.heldBytes > this.maxBufferBytes && this.res.writableNeedDrain)
      this.drop(`more than ${this.maxBufferBytes} bytes of live events held for a replay's reader`);
  }

  send(e: DeliveredEvent): void {
    const f = this.#frame(e);
    if (f) this.write(f);
  }

  /** The frame to write for `e`, or undefined when it was sent already (ids only move forward). */
  #frame(e: DeliveredEvent): string | undefined {
    if (!this.connected) return undefined;
    if (e.id !== undefined) {
      if (BigInt(e.id) <= this.lastSent) return undefined;
      this.lastSent = BigInt(e.id);
    }
    return frame(this.map ? this.map(e) : e);
  }

  /** Several events as one write: a replayed page is one chunk for the socket, not a hundred. */
  sendAll(events: DeliveredEvent[]): void {
    let chunk = '';
    for (const e of events) chunk += this.#frame(e) ?? '';
    if (chunk) this.write(chunk);
  }

  beat(): void {
    this.write(':\n\n');
  }

  write(chunk: string): void {
    if (!this.connected) return;
    if (!this.res.writableCorked) {
      this.res.cork();
      process.nextTick(uncork, this.res);
    }
    this.res.write(chunk);
    // A client that does not read would have the server buffer without bound. Once live, past the limit
    // the stream is dropped: the client reconnects with Last-Event-ID and the database has what it missed.
    // (A replay waits for the socket to drain instead, page by page.)
    if (this.live && this.res.writableLength > this.maxBufferBytes)
      this.drop(`more than ${this.maxBufferBytes} bytes unread`);
  }

  drop(why: string): void {
    if (!this.connected) return;
    this.log.info({ why, buffered: this.res.writableLength }, 'dropping an event stream that does not read');
    this.res.destroy();
  }

  /** Resolves once the socket took what was written (or the stream closed). */
  drained(): Promise<void> {
    if (!this.connected || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  /** Sends a replayed page merged with the buffered live events up to its last id, in id order. */
  sendPage(page: DeliveredEvent[]): void {
    // One of those live events may have been committed only after the page was read (EventHub.replay):
    // sent after the page it would be older than what was sent, and dropped.
    const upTo = BigInt(page[page.length - 1]!.id!);
    const early: DeliveredEvent[] = [];
    for (let i = this.buffered.length - 1; i >= 0; i--) {
      const id = this.buffered[i]!.id;
      if (id !== undefined && BigInt(id) <= upTo) early.push(...this.buffered.splice(i, 1));
    }
    for (const e of early) this.heldBytes -= heldSize(e);
    this.sendAll(early.length ? [...page, ...early].sort(byId) : page);
  }

  goLive(): void {
    this.live = true;
    this.heldBytes = 0;
    this.sendAll(this.buffered.splice(0));
  }
}

/**
 * One SSE response. Live events are buffered while the replay runs; each replayed page goes out merged
 * with the buffered events up to its last id, then the rest of the buffer, each id once and in id order,
 * so nothing is lost, doubled or reordered at the seam (EventHub.replay says why a page can miss an
 * event the buffer has). Heartbeat comments keep proxies from closing idle streams; the retry hint
 * tells browsers how soon to come back.
 */
export async function openStream(
  ctx: Context,
  hub: EventHub,
  log: Log,
  opts: OpenStreamOptions,
): Promise<void> {
  const release = hub.claimStream(opts.username);
  if (!release)
    throw new BridgeError(
      'TOO_MANY_STREAMS',
      `at most ${hub.limits.maxStreamsPerUser} event streams may be open at once here; close one first`,
      { retryAfter: 5 },
    );
  ctx.respond = false;
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  const res = ctx.res;
  res.once('close', release);
  const out = new Outlet(res, opts.lastEventId, hub.limits.maxBufferBytes, log, opts.map);
  const unsubscribe = hub.subscribe(opts.username, (e) => out.take(e));
  const untap = opts.tap?.((e) => out.take(e));
  try {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Pragma: 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    out.connected = true;
    out.write('retry:2000\n\n');
    const unbeat = beatEvery(opts.heartbeatMs, out);
    // On shutdown: ask the browser to come back in a second (to another instance), then end.
    const untrack = hub.trackStream(() => {
      if (out.connected) res.end('retry:1000\n:parley is restarting; reconnect\n\n');
    });
    opts.onOpen?.();
    const closed = (): void => {
      if (!out.connected) return;
      out.connected = false;
      unsubscribe();
      untap?.();
      unbeat();
      untrack();
      opts.onClose?.();
    };
    res.once('close', closed);
    if (res.destroyed) closed(); // the client left while the request was authorized: 'close' has been and gone
    for (const e of opts.snapshot?.() ?? []) out.send(e);
    if (opts.lastEventId !== undefined) {
      for await (const page of hub.replay(opts.username, opts.lastEventId, REPLAY_PAGE)) {
        if (!out.connected) break;
        out.sendPage(page);
        await out.drained();
      }
    }
    out.goLive();
    // End only once the replay and the buffered live events are out: the last event (e.g. `offline`
    // on logoff) may still sit in the buffer when the end is signalled.
    void opts.until?.then(() => {
      if (out.connected) res.end();
    });
  } catch (err) {
    release();
    unsubscribe();
    untap?.();
    log.warn({ err }, 'event stream failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const problem = toProblem(
      new BridgeError('DATABASE_UNAVAILABLE', 'the event stream could not be opened; retry shortly'),
      ctx.state.requestId as string,
    );
    res.writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': '5' });
    res.end(JSON.stringify(problem));
  }
}
