import http from 'node:http';

/**
 * Lean HTTP for load generation: node:http with a keep-alive agent (no fetch/undici per-request
 * overhead on the generator's CPU, which shares the 2 cores with the gateway), and a minimal
 * Server-Sent-Events reader that can hold thousands of streams in one process.
 */

export interface HttpReply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export function makeAgent(maxSockets = 64): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
}

export function request(
  agent: http.Agent | false,
  method: string,
  url: string,
  opts: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = http.request(
      { agent, method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.timeoutMs)
      req.setTimeout(opts.timeoutMs, () =>
        req.destroy(new Error(`HTTP ${method} ${u.pathname} timed out after ${opts.timeoutMs} ms`)),
      );
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export async function json<T>(
  agent: http.Agent | false,
  method: string,
  url: string,
  opts: {
    headers?: Record<string, string>;
    body?: unknown;
    text?: string;
    timeoutMs?: number;
    expect?: number[];
  } = {},
): Promise<T> {
  const headers = { ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (opts.text !== undefined) {
    headers['Content-Type'] = 'text/plain; charset=utf-8';
    body = opts.text;
  }
  const r = await request(agent, method, url, { headers, body, timeoutMs: opts.timeoutMs ?? 30_000 });
  const ok = opts.expect ? opts.expect.includes(r.status) : r.status >= 200 && r.status < 300;
  if (!ok) throw new Error(`${method} ${new URL(url).pathname} → ${r.status} ${r.body.slice(0, 300)}`);
  return (r.body ? JSON.parse(r.body) : undefined) as T;
}

export interface SseEvent {
  name: string;
  id: string;
  data: string;
}

export interface SseStream {
  /** resolves once the 200 response headers arrived (the stream is registered at the gateway) */
  opened: Promise<void>;
  close(): void;
  readonly closed: boolean;
  events: number;
}

/**
 * One event stream on its own socket. `onEvent` gets every dispatched event (comments and the retry
 * field are skipped). Parsing is line-based on the raw chunk, as the SSE spec defines it.
 */
export function openSse(
  url: string,
  onEvent: (e: SseEvent) => void,
  opts: { onEnd?: (err?: Error) => void; headers?: Record<string, string> } = {},
): SseStream {
  let closed = false;
  let req: http.ClientRequest | undefined;
  const state: SseStream = {
    opened: undefined as unknown as Promise<void>,
    close() {
      closed = true;
      req?.destroy();
    },
    get closed() {
      return closed;
    },
    events: 0,
  };
  state.opened = new Promise<void>((resolve, reject) => {
    const u = new URL(url);
    req = http.request(
      {
        agent: false,
        method: 'GET',
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: { Accept: 'text/event-stream', ...opts.headers },
      },
      (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString('utf8');
          });
          res.on('end', () =>
            reject(new Error(`SSE ${u.pathname} → ${res.statusCode} ${body.slice(0, 200)}`)),
          );
          return;
        }
        res.socket.setNoDelay(true);
        resolve();
        let buf = '';
        let name = '';
        let id = '';
        let data: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            let line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.endsWith('\r')) line = line.slice(0, -1);
            if (line === '') {
              if (data.length) {
                state.events++;
                onEvent({ name: name || 'message', id, data: data.join('\n') });
              }
              name = '';
              data = [];
              continue;
            }
            if (line.charCodeAt(0) === 58 /* : */) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            let value = colon < 0 ? '' : line.slice(colon + 1);
            if (value.charCodeAt(0) === 32) value = value.slice(1);
            if (field === 'event') name = value;
            else if (field === 'data') data.push(value);
            else if (field === 'id') id = value;
          }
        });
        res.on('end', () => {
          closed = true;
          opts.onEnd?.();
        });
        res.on('error', (err) => {
          closed = true;
          opts.onEnd?.(err);
        });
      },
    );
    req.on('error', (err) => {
      closed = true;
      reject(err);
      opts.onEnd?.(err);
    });
    req.end();
  });
  state.opened.catch(() => undefined);
  return state;
}
