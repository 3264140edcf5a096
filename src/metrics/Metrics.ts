import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Parley's Prometheus metrics. One registry per gateway (createMetrics), never a module-level one, so
 * tests can run several gateways in one process and read each one's numbers. Code that reports gets one
 * narrow port (XmppMetrics, HttpMetrics, StoreMetrics); gauges of live state are read at scrape time
 * from their source (watchSessions, watchOutbox), so they cannot drift from the truth.
 *
 * Names (docs/operations.md#metrics says what each one means and which alerts it suits):
 *   parley_sessions, parley_sse_streams, parley_xmpp_messages_total{direction,kind},
 *   parley_xmpp_reconnects_total{resumed}, parley_xmpp_unacked_stanzas, parley_xmpp_server_delay_seconds,
 *   parley_local_transit_seconds, parley_send_refused_total{code}, parley_sends_in_progress, parley_send_bound,
 *   parley_store_query_duration_seconds{operation}, parley_store_round_trips_total{statement},
 *   parley_callback_outbox_depth, parley_callback_outbox_oldest_age_seconds, parley_callback_outbox_dead,
 *   parley_http_request_duration_seconds{method,route,status_class}, and prom-client's process_* / nodejs_*.
 */

export type Direction = 'in' | 'out';
/**
 * The statements worth a latency histogram (named by the code that sends them, store/TimedDb.ts): every
 * durable event, every message row, every replay page, every receipt. Present from the start (at zero)
 * so dashboards and alerts find them before the first message. Other statements (history pages, admin
 * reads, purge batches, BEGIN/COMMIT) are only counted, so a slow admin export does not page anyone.
 */
export const STORE_OPERATIONS: readonly string[] = [
  'event_insert',
  'message_insert',
  'message_insert_by_sender',
  // rows (receipts) of the same moment share one statement (messages/GroupCommit.ts), and a recipient's
  // copy written alone carries the receipt it answers: a message row (a receipt) may be written by any of
  // them, which one is a matter of timing, so each is timed
  'message_insert_batch',
  'message_insert_batch_delivered',
  'message_insert_answered',
  'event_replay',
  'receipt_delivered',
  'receipt_displayed',
  'receipt_batch',
];

/** RFC 6121 message types; anything else is counted as `other` so a peer cannot blow up the label set. */
export const MESSAGE_KINDS = ['chat', 'groupchat', 'normal', 'headline', 'error'] as const;

/** What a user's XMPP session reports. */
export interface XmppMetrics {
  /** one <message/> stanza received (`in`) or sent (`out`); `type` is its type attribute */
  message(direction: Direction, type: string | undefined): void;
  /** the session came back after its connection dropped; `resumed`: XEP-0198 resumption, nothing lost */
  reconnected(resumed: boolean): void;
  /** a send refused by backpressure (xmpp/client/OutboundBudget.ts) */
  sendRefused(code: SendRefusal): void;
}

export const SEND_REFUSALS = ['SEND_QUEUE_FULL', 'XMPP_BACKLOG', 'GATEWAY_BUSY'] as const;
export type SendRefusal = (typeof SEND_REFUSALS)[number];

/** The bound on sends in progress, read at scrape time (limits/SendConcurrency.ts fits). */
export interface SendsSource {
  readonly inFlight: number;
  readonly limit: number;
}

/** The instance's backpressure ledger, read at scrape time (OutboundBudget fits). */
export interface OutboundSource {
  /** stanzas the XMPP server was asked to acknowledge and has not */
  readonly total: number;
  /** how long the server has left the oldest ack request it owes unanswered (ms) */
  delayMs(): number;
  /** how long messages between this instance's users take to arrive now (ms; 0: none in flight) */
  transitMs(): number;
}

export interface HttpMetrics {
  /** `route` is the matched route template (`/restapi/v1/chat/:streamid`), never the raw URL */
  request(method: string, route: string, status: number, seconds: number): void;
}

/** Every statement sent through store/TimedDb.ts, by the name its code gives it (a bounded set of constants). */
export interface StoreMetrics {
  statement(name: string, seconds: number): void;
}

/** Live sessions, read at scrape time (SessionManager fits). */
export interface SessionSource {
  readonly size: number;
  all(): readonly { openStreams: number }[];
}

/** The callback outbox at scrape time; undefined when it could not be read. */
export interface OutboxStats {
  depth: number;
  oldestAgeSeconds: number;
  dead: number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly xmpp: XmppMetrics;
  readonly http: HttpMetrics;
  readonly store: StoreMetrics;
  watchSessions(source: SessionSource): void;
  watchOutbox(probe: () => Promise<OutboxStats | undefined>): void;
  watchOutbound(source: OutboundSource): void;
  /** the adaptive bound on sends in progress (limits/SendConcurrency.ts), read at scrape time */
  watchSends(source: SendsSource): void;
  /** the exposition text and its content type, for GET /metrics */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** prom-client's process_* and nodejs_* metrics (CPU, memory, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  let sessions: SessionSource | undefined;
  let outbox: (() => Promise<OutboxStats | undefined>) | undefined;
  let outbound: OutboundSource | undefined;
  let sends: SendsSource | undefined;

  new Gauge({
    name: 'parley_sessions',
    help: 'Live XMPP user sessions on this instance (one per logged-in user).',
    registers: [registry],
    collect() {
      this.set(sessions?.size ?? 0);
    },
  });
  new Gauge({
    name: 'parley_sse_streams',
    help: 'Open Server-Sent-Events streams on this instance.',
    registers: [registry],
    collect() {
      this.set(sessions?.all().reduce((n, s) => n + s.openStreams, 0) ?? 0);
    },
  });

  const messages = new Counter({
    name: 'parley_xmpp_messages_total',
    help: 'XMPP <message/> stanzas through user sessions, by direction and type.',
    labelNames: ['direction', 'kind'] as const,
    registers: [registry],
  });
  // Series with known labels are created at 0, so a scrape shows them before their first event.
  for (const direction of ['in', 'out'] as const)
    for (const kind of MESSAGE_KINDS) messages.labels(direction, kind).inc(0);
  const reconnects = new Counter({
    name: 'parley_xmpp_reconnects_total',
    help: 'User sessions back online after their XMPP connection dropped (resumed: XEP-0198).',
    labelNames: ['resumed'] as const,
    registers: [registry],
  });
  reconnects.labels('true').inc(0);
  reconnects.labels('false').inc(0);
  new Gauge({
    name: 'parley_xmpp_unacked_stanzas',
    help: 'Stanzas this instance asked the XMPP server to acknowledge (XEP-0198 <r/>) that it has not yet.',
    registers: [registry],
    collect() {
      this.set(outbound?.total ?? 0);
    },
  });
  new Gauge({
    name: 'parley_sends_in_progress',
    help: 'Sends (1:1) this instance is working on now, from the door to their answer.',
    registers: [registry],
    collect() {
      this.set(sends?.inFlight ?? 0);
    },
  });
  new Gauge({
    name: 'parley_send_bound',
    help: 'The adaptive bound on sends in progress past which sessions with two out are refused (0: no bound).',
    registers: [registry],
    collect() {
      this.set(sends?.limit ?? 0);
    },
  });
  new Gauge({
    name: 'parley_xmpp_server_delay_seconds',
    help: 'How long the XMPP server has left the oldest ack request it owes this instance unanswered (0: none).',
    registers: [registry],
    collect() {
      this.set((outbound?.delayMs() ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'parley_local_transit_seconds',
    help: 'How long messages between users of this instance take now, sent to stored (0: none in flight).',
    registers: [registry],
    collect() {
      this.set((outbound?.transitMs() ?? 0) / 1000);
    },
  });
  const refused = new Counter({
    name: 'parley_send_refused_total',
    help: 'Sends refused by backpressure: SEND_QUEUE_FULL (429, one session), XMPP_BACKLOG (503, the XMPP server), GATEWAY_BUSY (503, this instance).',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  for (const code of SEND_REFUSALS) refused.labels(code).inc(0);

  const store = new Histogram({
    name: 'parley_store_query_duration_seconds',
    help: 'PostgreSQL latency of the hot statements: event and message inserts, replay pages, receipts.',
    labelNames: ['operation'] as const,
    buckets: STORE_BUCKETS,
    registers: [registry],
  });
  for (const op of STORE_OPERATIONS) store.zero({ operation: op });
  const timed = new Set(STORE_OPERATIONS);
  const roundTrips = new Counter({
    name: 'parley_store_round_trips_total',
    help: 'Statements the message log sent to PostgreSQL, by statement name (BEGIN/COMMIT included).',
    labelNames: ['statement'] as const,
    registers: [registry],
  });

  const http = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP request latency by route template and status class (SSE: until the stream is open).',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });

  // The three outbox gauges share one query per scrape.
  let pending: { at: number; stats: Promise<OutboxStats | undefined> } | undefined;
  const readOutbox = (): Promise<OutboxStats | undefined> => {
    if (!outbox) return Promise.resolve({ depth: 0, oldestAgeSeconds: 0, dead: 0 });
    if (!pending || Date.now() - pending.at > 1000)
      pending = { at: Date.now(), stats: outbox().catch(() => undefined) };
    return pending.stats;
  };
  const outboxGauge = (name: string, help: string, pick: (s: OutboxStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await readOutbox();
        this.set(s ? pick(s) : Number.NaN);
      },
    });
  outboxGauge(
    'parley_callback_outbox_depth',
    'Callbacks waiting for delivery (neither delivered nor dead-lettered); NaN when the table cannot be read.',
    (s) => s.depth,
  );
  outboxGauge(
    'parley_callback_outbox_oldest_age_seconds',
    'Age of the oldest callback waiting for delivery (0 when none).',
    (s) => s.oldestAgeSeconds,
  );
  outboxGauge(
    'parley_callback_outbox_dead',
    'Dead-lettered callbacks (gave up after retries; replay them with `parley callbacks replay`).',
    (s) => s.dead,
  );

  return {
    registry,
    xmpp: {
      message(direction, type) {
        const kind = (MESSAGE_KINDS as readonly string[]).includes(type ?? 'normal')
          ? (type ?? 'normal')
          : 'other';
        messages.labels(direction, kind).inc();
      },
      reconnected(resumed) {
        reconnects.labels(String(resumed)).inc();
      },
      sendRefused(code) {
        refused.labels(code).inc();
      },
    },
    http: {
      request(method, route, status, seconds) {
        http.labels(method, route, `${Math.floor(status / 100)}xx`).observe(seconds);
      },
    },
    store: {
      statement(name, seconds) {
        if (timed.has(name)) store.labels(name).observe(seconds);
        roundTrips.labels(name).inc();
      },
    },
    watchSessions(source) {
      sessions = source;
    },
    watchOutbox(probe) {
      outbox = probe;
    },
    watchOutbound(source) {
      outbound = source;
    },
    watchSends(source) {
      sends = source;
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
