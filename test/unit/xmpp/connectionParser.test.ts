import assert from 'node:assert/strict';
import net from 'node:net';
import { Client as ClientCore } from '@xmpp/client-core';
import tcp from '@xmpp/tcp';

/**
 * @xmpp/connection 0.14 writes socket data to `this.parser` unchecked, and detaches the parser before
 * the socket (a stop whose </stream:stream> answer does not come in time, a parse error). Bytes that
 * still arrive then threw a TypeError from a socket 'data' handler: an uncaught exception, the end of
 * the process (xmppjs/xmpp.js#860). patches/@xmpp+connection+0.14.0.patch drops them instead.
 * A loopback server plays the XMPP server that keeps delivering.
 */
const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "id='s1' from='localhost' version='1.0'>";

interface Peer {
  url: string;
  /** bytes written to the client after it sent </stream:stream> or after the parse error */
  afterEnd: () => number;
  close(): Promise<void>;
}

/** Answers the stream header, then runs `script` on the socket; never answers </stream:stream>. */
async function fakeServer(script: (s: net.Socket, countAfter: () => void) => void): Promise<Peer> {
  let after = 0;
  const sockets = new Set<net.Socket>();
  // allowHalfOpen: like a busy server, it keeps delivering its queued output after the client's FIN.
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => {
      s.write(HEADER);
      script(s, () => after++);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  return {
    url: `xmpp://127.0.0.1:${port}`,
    afterEnd: () => after,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

/** Writes a message every few ms until the socket goes, counting those sent once `armed()` says so. */
function flood(s: net.Socket, armed: () => boolean, count: () => void): void {
  const t = setInterval(() => {
    if (s.destroyed || !s.writable) return clearInterval(t);
    s.write("<message from='a@localhost' to='b@localhost'><body>x</body></message>");
    if (armed()) count();
  }, 5);
  s.on('close', () => clearInterval(t));
}

async function openClient(url: string, timeout: number): Promise<ClientCore> {
  const c = new ClientCore({ service: url, domain: 'localhost' });
  tcp({ entity: c });
  c.on('error', () => undefined);
  c.timeout = timeout;
  await c.connect(url);
  await c.open({ domain: 'localhost' });
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('@xmpp/connection with the parser detached (patched)', function () {
  this.timeout(10_000);

  it('drops data arriving after a stop timed out waiting for </stream:stream>', async () => {
    let closing = false;
    const server = await fakeServer((s, countAfter) => {
      s.on('data', (d) => {
        if (String(d).includes('</stream:stream>')) closing = true;
      });
      flood(s, () => closing, countAfter);
    });
    try {
      const c = await openClient(server.url, 150);
      await c.stop(); // the stream close times out (150 ms), the socket close too: both while data flows
      await sleep(100);
      assert.ok(server.afterEnd() >= 20, `the server kept delivering (${server.afterEnd()} messages)`);
      assert.equal(c.parser, null);
    } finally {
      await server.close();
    }
  });

  it('drops data arriving after a parse error detached the parser', async () => {
    let broken = false;
    const server = await fakeServer((s, countAfter) => {
      setTimeout(() => {
        s.write('<a></b>');
        broken = true;
      }, 20);
      flood(s, () => broken, countAfter);
    });
    try {
      const c = await openClient(server.url, 150);
      const failed = new Promise((r) => c.once('error', r));
      await failed;
      await sleep(300);
      assert.ok(server.afterEnd() >= 20, `the server kept delivering (${server.afterEnd()} messages)`);
      await c.stop().catch(() => undefined);
    } finally {
      await server.close();
    }
  });
});
