import { EventSource } from 'eventsource';

export interface ReceivedEvent {
  name: string;
  id: string;
  data: Record<string, unknown>;
}

/**
 * A real EventSource client (the `eventsource` package, WHATWG semantics incl. Last-Event-ID on
 * reconnect) that records every named event. `next()` waits for the next event matching a filter.
 */
export class SseClient {
  readonly events: ReceivedEvent[] = [];
  readonly #waiters: { match: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }[] = [];
  readonly #es: EventSource;
  readonly opened: Promise<void>;

  constructor(url: string, opts: { headers?: Record<string, string>; names?: string[] } = {}) {
    const headers = opts.headers ?? {};
    this.#es = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
    });
    const names = opts.names ?? [
      'chatapi.session',
      'chatapi.chat',
      'chatapi.muc',
      'chatapi.presence',
      'chatapi.receipt',
      'chatapi.notify',
      'chatapi.xmpp',
      'chatapi.assist',
      'chatapi.ask',
      'chatapi.call',
      'chatapi.group',
      'chatapi.bookmarks',
    ];
    for (const name of names) {
      this.#es.addEventListener(name, (ev) =>
        this.#record({ name, id: ev.lastEventId, data: JSON.parse(ev.data) as Record<string, unknown> }),
      );
    }
    this.opened = new Promise((resolve, reject) => {
      this.#es.addEventListener('open', () => resolve());
      this.#es.addEventListener('error', (e) => {
        if (this.#es.readyState === EventSource.CLOSED)
          reject(
            new Error(
              `SSE failed: ${(e as { message?: string }).message ?? ''} ${(e as { code?: number }).code ?? ''}`,
            ),
          );
      });
    });
  }

  #record(e: ReceivedEvent): void {
    this.events.push(e);
    for (const w of [...this.#waiters]) {
      if (w.match(e)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }

  /** The first already-received or future event matching `match`, after index `from`. */
  next(match: (e: ReceivedEvent) => boolean, timeoutMs = 10_000, from = 0): Promise<ReceivedEvent> {
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no matching SSE event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => [e.name, e.data.type]))}`,
            ),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  get lastEventId(): string {
    return [...this.events].reverse().find((e) => e.id)?.id ?? '';
  }
  close(): void {
    this.#es.close();
  }
}
