import type { Client } from '@xmpp/client';
import xml, { type Element } from '@xmpp/xml';
import { createXmppClient, smSettled } from '../../src/xmpp/client/createXmppClient.js';
import { json, makeAgent, openSse, request, type SseStream } from '../lib/http.js';

/**
 * The three ways a message gets from A to B that the bench compares, behind one interface:
 *  - raw XMPP: two @xmpp/client connections (Parley's own connection settings: PLAIN, TCP_NODELAY,
 *    wait for XEP-0198 <enabled/>) — the floor for any bridge on that server;
 *  - Parley: REST POST by A's session, received on B's SSE stream (or by a raw XMPP client);
 *  - ejabberd mod_http_api send_message, received by a raw XMPP client.
 * Every message body carries `<tag>:<seq>:` so the receiving end can match it to its send time.
 */

const noop = (): void => undefined;

export interface Driver {
  readonly kind: string;
  /** resolves when the sending side accepted the message (HTTP 2xx, or the stanza was written) */
  send(seq: number): Promise<void>;
  /** set by the rate engine: called with the message's seq and arrival time (performance.now()) */
  onDelivered: (seq: number, at: number) => void;
  close(): Promise<void>;
}

/**
 * A send the system under test declined with a backpressure answer (HTTP 429 or 503, Retry-After):
 * counted apart from failures, since refusing what it cannot deliver in time is the behaviour asked for.
 */
export class Refused extends Error {
  readonly refused = true;
  constructor(
    readonly status: number,
    detail: string,
    /** the answer's Retry-After, in seconds (undefined when it had none) */
    readonly retryAfterS?: number,
  ) {
    super(`send → ${status} ${detail}`);
  }
}

/** Retry-After as seconds, when it is a number (Parley sends one on every 429/503 of a send). */
export function retryAfterOf(headers: Record<string, string | string[] | undefined>): number | undefined {
  const v = Number(headers['retry-after']);
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}

export const isRefused = (err: unknown): boolean => (err as { refused?: unknown } | null)?.refused === true;

const PAD =
  'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore';

/** ~100-byte bodies, like the recipe's baseline. */
export function bodyFor(tag: string, seq: number): string {
  const head = `${tag}:${seq}:`;
  return head + PAD.slice(0, Math.max(8, 100 - head.length));
}

export function seqOf(tag: string, body: string | undefined | null): number | undefined {
  if (!body || !body.startsWith(tag) || body.charCodeAt(tag.length) !== 58) return undefined;
  const end = body.indexOf(':', tag.length + 1);
  const n = Number(body.slice(tag.length + 1, end));
  return Number.isFinite(n) ? n : undefined;
}

export interface XmppAccount {
  service: string;
  domain: string;
  username: string;
  password: string;
  resource?: string;
}

export async function connectXmpp(a: XmppAccount): Promise<Client> {
  const x = createXmppClient({
    service: a.service,
    domain: a.domain,
    username: a.username,
    password: a.password,
    resource: a.resource,
  });
  x.on('error', () => undefined);
  guardLateData(x);
  await x.start();
  await smSettled(x);
  await x.send(xml('presence'));
  return x;
}

/**
 * @xmpp/connection detaches its parser when the stream closes but keeps reading the socket, so data
 * still arriving (a server working off a backlog while the client stops) hits `this.parser.write` on
 * null, thrown from a socket callback: it crashed the load generator mid-run. The socket listener is
 * `this._onData` bound at the first connect, so an own property set before start() is what it calls.
 */
function guardLateData(x: Client): void {
  const c = x as unknown as { _onData(d: Buffer): void; parser: unknown };
  const onData = c._onData.bind(x);
  c._onData = (d: Buffer): void => {
    if (c.parser) onData(d);
  };
}

/** stop() waits for the server's stream close, which an overloaded server may send late or never. */
export async function stopXmpp(x: Client, ms = 3000): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([x.stop().catch(noop), new Promise((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
  (x as unknown as { socket?: { destroy(): void } | null }).socket?.destroy();
}

function listenXmpp(x: Client, tag: string, deliver: (seq: number) => void): void {
  x.on('stanza', (el: Element) => {
    if (!el.is('message')) return;
    const seq = seqOf(tag, el.getChildText('body'));
    if (seq !== undefined) deliver(seq);
  });
}

export async function rawXmppDriver(cfg: { tag: string; tx: XmppAccount; rx: XmppAccount }): Promise<Driver> {
  const [tx, rx] = await Promise.all([
    connectXmpp({ ...cfg.tx, resource: 'tx' }),
    connectXmpp({ ...cfg.rx, resource: 'rx' }),
  ]);
  const to = `${cfg.rx.username}@${cfg.rx.domain}/rx`;
  const d: Driver = {
    kind: 'raw-xmpp',
    onDelivered: noop,
    send: (seq) =>
      tx.send(xml('message', { type: 'chat', to, id: `m${seq}` }, xml('body', {}, bodyFor(cfg.tag, seq)))),
    async close() {
      await Promise.all([stopXmpp(tx), stopXmpp(rx)]);
    },
  };
  listenXmpp(rx, cfg.tag, (seq) => d.onDelivered(seq, performance.now()));
  return d;
}

export interface ParleyLogin {
  streamId: string;
  token: string;
  jid: string;
  resource: string;
  events: string;
}

export async function parleyLogin(
  url: string,
  username: string,
  password: string,
  agent = makeAgent(4),
): Promise<ParleyLogin> {
  return json<ParleyLogin>(agent, 'POST', `${url}/restapi/v1/chat/${username}/login`, {
    body: { password },
    timeoutMs: 60_000,
  });
}

export function eventsUrl(login: ParleyLogin): string {
  const u = new URL(login.events);
  u.searchParams.set('token', login.token);
  return u.toString();
}

/**
 * REST send by A, delivery seen on B's SSE stream (`to: 'parley'`) or by a raw XMPP client
 * (`to: 'xmpp'`, for the comparison with send_message, which delivers to an XMPP client).
 */
export async function parleyDriver(cfg: {
  tag: string;
  url: string;
  domain: string;
  tx: { username: string; password: string };
  rx: { via: 'parley'; username: string; password: string } | { via: 'xmpp'; account: XmppAccount };
  maxSockets?: number;
}): Promise<Driver & { ackLatencies: number[] }> {
  const agent = makeAgent(cfg.maxSockets ?? 64);
  const txLogin = await parleyLogin(cfg.url, cfg.tx.username, cfg.tx.password, agent);
  let to: string;
  let stream: SseStream | undefined;
  let rxClient: Client | undefined;
  const d: Driver & { ackLatencies: number[] } = {
    kind: cfg.rx.via === 'parley' ? 'parley' : 'parley-to-xmpp',
    ackLatencies: [],
    onDelivered: noop,
    async send(seq) {
      const r = await request(
        agent,
        'POST',
        `${cfg.url}/restapi/v1/chat/${txLogin.streamId}/messages/${encodeURIComponent(to)}`,
        {
          headers: { Authorization: `Bearer ${txLogin.token}`, 'Content-Type': 'text/plain; charset=utf-8' },
          body: bodyFor(cfg.tag, seq),
        },
      );
      if (r.status === 429 || r.status === 503)
        throw new Refused(r.status, r.body.slice(0, 200), retryAfterOf(r.headers));
      if (r.status !== 201) throw new Error(`send → ${r.status} ${r.body.slice(0, 200)}`);
    },
    async close() {
      stream?.close();
      if (rxClient) await stopXmpp(rxClient);
      agent.destroy();
    },
  };
  if (cfg.rx.via === 'parley') {
    const rxLogin = await parleyLogin(cfg.url, cfg.rx.username, cfg.rx.password, agent);
    to = `${rxLogin.jid}/${rxLogin.resource}`;
    stream = openSse(eventsUrl(rxLogin), (e) => {
      if (e.name !== 'chatapi.chat') return;
      const at = performance.now();
      const p = JSON.parse(e.data) as { direction?: string; body?: string };
      if (p.direction !== 'in') return;
      const seq = seqOf(cfg.tag, p.body);
      if (seq !== undefined) d.onDelivered(seq, at);
    });
    await stream.opened;
  } else {
    rxClient = await connectXmpp({ ...cfg.rx.account, resource: 'rx' });
    to = `${cfg.rx.account.username}@${cfg.rx.account.domain}/rx`;
    listenXmpp(rxClient, cfg.tag, (seq) => d.onDelivered(seq, performance.now()));
  }
  return d;
}

/** ejabberd's mod_http_api `send_message` (what a user would pick instead of Parley for HTTP→XMPP). */
export async function sendMessageDriver(cfg: {
  tag: string;
  apiUrl: string;
  from: string;
  rx: XmppAccount;
  maxSockets?: number;
}): Promise<Driver> {
  const agent = makeAgent(cfg.maxSockets ?? 64);
  const rx = await connectXmpp({ ...cfg.rx, resource: 'rx' });
  const to = `${cfg.rx.username}@${cfg.rx.domain}/rx`;
  const d: Driver = {
    kind: 'ejabberd-send_message',
    onDelivered: noop,
    async send(seq) {
      const r = await request(agent, 'POST', `${cfg.apiUrl}/send_message`, {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'chat', from: cfg.from, to, subject: '', body: bodyFor(cfg.tag, seq) }),
      });
      if (r.status !== 200) throw new Error(`send_message → ${r.status} ${r.body.slice(0, 200)}`);
    },
    async close() {
      await stopXmpp(rx);
      agent.destroy();
    },
  };
  listenXmpp(rx, cfg.tag, (seq) => d.onDelivered(seq, performance.now()));
  return d;
}

/**
 * Prosody's mod_rest (prosody-modules): `POST /rest/message/chat/{to}` with a text/plain body and
 * HTTP Basic auth as the sending user (local part only), received by a plain XMPP client. The peer a
 * Prosody operator would try before Parley. Releases before the path form (2020 and earlier) answer it
 * 404 and take only `POST /rest` with the stanza itself: the driver falls back to that on the first 404.
 */
export async function modRestDriver(cfg: {
  tag: string;
  restUrl: string;
  from: { username: string; password: string };
  rx: XmppAccount;
  maxSockets?: number;
}): Promise<Driver> {
  const agent = makeAgent(cfg.maxSockets ?? 64);
  const rx = await connectXmpp({ ...cfg.rx, resource: 'rx' });
  const to = `${cfg.rx.username}@${cfg.rx.domain}/rx`;
  const auth = `Basic ${Buffer.from(`${cfg.from.username}:${cfg.from.password}`).toString('base64')}`;
  const pathForm = `${cfg.restUrl}/message/chat/${encodeURIComponent(to)}`;
  let stanzaForm = false;
  const post = (seq: number) =>
    stanzaForm
      ? request(agent, 'POST', cfg.restUrl, {
          headers: { Authorization: auth, 'Content-Type': 'application/xmpp+xml' },
          body: xml('message', { to, type: 'chat' }, xml('body', {}, bodyFor(cfg.tag, seq))).toString(),
        })
      : request(agent, 'POST', pathForm, {
          headers: { Authorization: auth, 'Content-Type': 'text/plain; charset=utf-8' },
          body: bodyFor(cfg.tag, seq),
        });
  const d: Driver = {
    kind: 'mod_rest',
    onDelivered: noop,
    async send(seq) {
      let r = await post(seq);
      if (r.status === 404 && !stanzaForm) {
        stanzaForm = true;
        r = await post(seq);
      }
      if (r.status < 200 || r.status >= 300)
        throw new Error(`mod_rest → ${r.status} ${r.body.slice(0, 200)}`);
    },
    async close() {
      await stopXmpp(rx);
      agent.destroy();
    },
  };
  listenXmpp(rx, cfg.tag, (seq) => d.onDelivered(seq, performance.now()));
  return d;
}
