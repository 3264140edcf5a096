import net from 'node:net';
import { bodyFor, type Driver, type XmppAccount } from './drivers.js';

/**
 * The lean raw-XMPP driver: what a load generator costs when it does nothing but XMPP on a socket.
 * @xmpp/client parses every arriving stanza into a DOM and serializes every one it sends; at a few
 * thousand messages per second that work (not the server) becomes the raw baseline's limit. Here:
 *  - a minimal login (stream, SASL PLAIN, bind, XEP-0198 enable, initial presence) on a plain TCP
 *    socket with TCP_NODELAY, like Parley's own connections;
 *  - stanzas pre-serialized from a template (only the sequence number changes), one write each;
 *  - arrivals found by a streaming scan for `<message`, `<body>tag:seq:` and XEP-0198 `<r/>`, no DOM;
 *    each `<r/>` is answered with the count of stanzas received, as XEP-0198 requires, and the sender
 *    asks for acks at most every 250 ms (as @xmpp/stream-management does).
 * Data that arrives after close() is ignored: a server that fell behind keeps sending its backlog.
 * Bodies and JIDs here are bench-made ASCII without XML specials (checked), so the template needs no
 * escaping; this is the one place stanzas are written as text, because not building them is the point.
 */

const SM_NS = 'urn:xmpp:sm:3';
const STREAM_OPEN = (domain: string): string =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
const SAFE = /^[A-Za-z0-9@./:_ ,-]*$/;
const FEATURES_END = /<\/(?:stream:)?features>/;
const ARRIVAL =
  /<(message|presence|iq)[\s/>]|<r\s+xmlns=['"]urn:xmpp:sm:3['"]|<body>([a-z]+):(\d+):|<stream:error/g;

interface LeanSession {
  jid: string;
  write(s: string): boolean;
  onBody: (tag: string, seq: number) => void;
  close(): Promise<void>;
  readonly stats: { stanzasIn: number; bytesIn: number; dropped: number; error?: string };
}

function assertSafe(what: string, s: string): void {
  if (!SAFE.test(s)) throw new Error(`lean driver: ${what} ${JSON.stringify(s)} would need XML escaping`);
}

export async function leanConnect(a: XmppAccount, resource: string): Promise<LeanSession> {
  for (const [k, v] of [
    ['username', a.username],
    ['domain', a.domain],
    ['resource', resource],
  ] as const)
    assertSafe(k, v);
  const u = new URL(a.service.replace(/^xmpp:/, 'tcp:'));
  const sock = net.connect({ host: u.hostname, port: Number(u.port || 5222) });
  sock.setNoDelay(true);
  sock.setEncoding('utf8');
  let streaming = false;
  let closed = false;
  let buf = '';
  let handled = 0;
  const stats: LeanSession['stats'] = { stanzasIn: 0, bytesIn: 0, dropped: 0 };
  let waiter: { re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void } | undefined;
  const fail = (err: Error): void => {
    stats.error ??= err.message;
    waiter?.reject(err);
    waiter = undefined;
  };
  const check = (): void => {
    if (!waiter) return;
    const bad = /<failure[\s>][\s\S]*?<\/failure>|<stream:error>[\s\S]*?<\/stream:error>/.exec(buf);
    if (bad) return fail(new Error(`lean login refused: ${bad[0].slice(0, 300)}`));
    const m = waiter.re.exec(buf);
    if (!m) return;
    buf = buf.slice(m.index + m[0].length);
    const w = waiter;
    waiter = undefined;
    w.resolve(m);
  };
  const expect = (re: RegExp, ms = 15_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`lean login: no ${String(re)} within ${ms} ms (got ${buf.slice(0, 300)})`)),
        ms,
      );
      waiter = {
        re,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      check();
    });
  const session: LeanSession = {
    jid: '',
    stats,
    onBody: () => undefined,
    write: (s) => {
      if (closed || sock.destroyed) return false;
      sock.write(s);
      return true;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!sock.destroyed) sock.end('</stream:stream>');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 1000);
        sock.once('close', () => {
          clearTimeout(t);
          r();
        });
      });
      sock.destroy();
    },
  };
  // Only what precedes the last '<' is complete; the rest waits for the next chunk.
  const scan = (chunk: string): void => {
    const s = buf + chunk;
    const cut = s.lastIndexOf('<');
    if (cut <= 0) {
      buf = s.length > 65_536 ? '' : s;
      return;
    }
    const done = s.slice(0, cut);
    buf = s.slice(cut);
    ARRIVAL.lastIndex = 0;
    for (let m = ARRIVAL.exec(done); m; m = ARRIVAL.exec(done)) {
      if (m[1]) {
        handled++;
        stats.stanzasIn++;
      } else if (m[2]) session.onBody(m[2], Number(m[3]));
      else if (m[0].startsWith('<r')) sock.write(`<a xmlns='${SM_NS}' h='${handled}'/>`);
      else stats.error ??= `stream error: ${s.slice(m.index, m.index + 300)}`;
    }
  };
  sock.on('data', (d: string) => {
    stats.bytesIn += d.length;
    if (closed) {
      stats.dropped += d.length;
      return;
    }
    if (streaming) scan(d);
    else {
      buf += d;
      check();
    }
  });
  sock.on('error', (err) => fail(err));
  sock.on('close', () => {
    if (!closed) fail(new Error('lean connection closed by the server'));
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  try {
    sock.write(STREAM_OPEN(a.domain));
    await expect(FEATURES_END);
    const creds = Buffer.from(`\0${a.username}\0${a.password}`).toString('base64');
    sock.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${creds}</auth>`);
    await expect(/<success[\s/>]/);
    sock.write(STREAM_OPEN(a.domain));
    const f = await expect(FEATURES_END);
    const offersSm = f.input.slice(0, f.index).includes(SM_NS);
    sock.write(
      `<iq type='set' id='lean-bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
    );
    session.jid = (await expect(/<jid>([^<]+)<\/jid>/))[1]!;
    if (offersSm) {
      sock.write(`<enable xmlns='${SM_NS}'/>`);
      await expect(/<enabled[\s/>]/);
    }
    sock.write('<presence/>');
  } catch (err) {
    sock.destroy();
    throw err;
  }
  streaming = true;
  const rest = buf;
  buf = '';
  scan(rest);
  return session;
}

export async function leanXmppDriver(cfg: {
  tag: string;
  tx: XmppAccount;
  rx: XmppAccount;
}): Promise<Driver & { stats(): Record<string, unknown> }> {
  const [tx, rx] = await Promise.all([leanConnect(cfg.tx, 'tx'), leanConnect(cfg.rx, 'rx')]);
  const to = `${cfg.rx.username}@${cfg.rx.domain}/rx`;
  assertSafe('tag', cfg.tag);
  assertSafe('body', bodyFor(cfg.tag, 0));
  const head = `<message type='chat' to='${to}' id='m`;
  let sentSinceAck = 0;
  const ackTimer = setInterval(() => {
    if (sentSinceAck === 0) return;
    sentSinceAck = 0;
    tx.write(`<r xmlns='${SM_NS}'/>`);
  }, 250);
  ackTimer.unref();
  const d: Driver & { stats(): Record<string, unknown> } = {
    kind: 'raw-xmpp-lean',
    onDelivered: () => undefined,
    send(seq) {
      if (!tx.write(`${head}${seq}'><body>${bodyFor(cfg.tag, seq)}</body></message>`))
        return Promise.reject(
          new Error(`lean sender is closed${tx.stats.error ? `: ${tx.stats.error}` : ''}`),
        );
      sentSinceAck++;
      return Promise.resolve();
    },
    stats: () => ({ tx: tx.stats, rx: rx.stats }),
    async close() {
      clearInterval(ackTimer);
      await Promise.all([tx.close(), rx.close()]);
    },
  };
  rx.onBody = (tag, seq) => {
    if (tag === cfg.tag) d.onDelivered(seq, performance.now());
  };
  return d;
}
