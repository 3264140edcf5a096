/**
 * The visitor's event stream, opened with a one-time ticket (`POST …/events/ticket`): EventSource cannot set
 * headers, and the visitor token, valid as long as the request, must not travel in a URL (access logs,
 * history). The browser's own reconnect reuses the URL, whose ticket is spent: it fails, and the stream is
 * reopened with a new ticket and `?lastEventId=` of the last durable event seen, with backoff, so nothing is
 * lost or doubled. Returns the close function.
 */
export function openAskStream(
  session: { userID: string; token: string; events: string },
  onEvent: (data: Record<string, unknown>) => void,
): () => void {
  let es: EventSource | undefined;
  let lastId: string | undefined;
  let retry = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => void open(), Math.min(15000, 500 * 2 ** retry++));
  };

  const open = async (): Promise<void> => {
    let ticket: string;
    try {
      const res = await fetch(`/restapi/v1/ask/${encodeURIComponent(session.userID)}/events/ticket`, {
        method: 'POST',
        headers: { Accept: 'application/json', Authorization: `Bearer ${session.token}` },
      });
      // The request is gone or the token no longer works: nothing to resume.
      if (res.status === 401 || res.status === 403 || res.status === 404) return;
      if (!res.ok) return schedule();
      ({ ticket } = (await res.json()) as { ticket: string });
    } catch {
      return schedule(); // offline, or the answer broke off: try again
    }
    if (closed) return;
    // The events URL replays the request from its start (lastEventId=0) until an event moved the cursor.
    const url = new URL(session.events, location.href);
    url.searchParams.set('ticket', ticket);
    if (lastId) url.searchParams.set('lastEventId', lastId);
    const source = new EventSource(url);
    es = source;
    source.onopen = () => {
      retry = 0;
    };
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return;
      es = undefined;
      schedule();
    };
    source.addEventListener('chatapi.ask', (ev) => {
      const m = ev as MessageEvent<string>;
      if (m.lastEventId) lastId = m.lastEventId;
      onEvent(JSON.parse(m.data) as Record<string, unknown>);
    });
  };

  void open();
  return () => {
    closed = true;
    clearTimeout(timer);
    es?.close();
  };
}
