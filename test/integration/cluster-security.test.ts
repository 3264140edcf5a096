import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import pg from 'pg';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call } from '../helpers/http.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string; jid: string };

/** Sends `request` as raw bytes (so the request line can be absolute-form) and returns the whole answer. */
function rawHttp(baseUrl: string, request: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** A loopback listener standing in for a host an attacker wants the gateway to reach: counts connections. */
async function evilListener(): Promise<{ server: Server; url: string; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.end('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nevil');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, connections: () => n };
}

/**
 * Cluster forwarding is not an open proxy: the target is the peer's base URL plus the request's path and
 * query, redirects are not followed, and instances accept forwarded calls only when signed with the shared
 * cluster key (PARLEY_CLUSTER_KEY).
 */
describe('cluster forwarding: peers only, signed, no redirects', function () {
  this.timeout(60_000);
  let dbUrl: string;
  let a: TestGateway;
  let b: TestGateway;
  let db: pg.Client;
  let clusterKey: string;
  const closers: (() => Promise<unknown>)[] = [];
  before(async () => {
    dbUrl = await freshDatabase();
    const shared = {
      DATABASE_URL: dbUrl,
      PARLEY_SECRET: randomBytes(18).toString('base64url'),
      PARLEY_CLUSTER_KEY: randomBytes(24).toString('base64url'),
    };
    clusterKey = shared.PARLEY_CLUSTER_KEY;
    a = await startGateway(shared);
    b = await startGateway(shared);
    db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
  });
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await db?.end();
    await a?.stop();
    await b?.stop();
    await dropDatabase(dbUrl);
  });
  const login = async (gw: TestGateway, prefix: string): Promise<Login & { username: string }> => {
    const u = await registerUser(prefix);
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status < 300, r.text);
    return { ...r.body, username: u.username };
  };
  const evil = async () => {
    const e = await evilListener();
    closers.push(() => new Promise((r) => e.server.close(r)));
    return e;
  };

  it('forwards between instances sharing the key', async () => {
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    const r = await call(`${b.url}/restapi/v1/chat/${alice.streamId}/messages/${bob.username}`, {
      method: 'POST',
      auth: bearer(alice.token),
      text: 'via B to A',
    });
    assert.equal(r.status, 201, r.text);
  });

  it('an absolute-form request line cannot aim the forward at another host', async () => {
    const alice = await login(a, 'alice');
    const target = await evil();
    const body = 'hello';
    const paths = [
      `${target.url}/restapi/v1/chat/${alice.streamId}/messages/bob`,
      `${target.url.replace('http:', 'HTTP:')}/restapi/v1/chat/${alice.streamId}`,
    ];
    for (const path of paths) {
      const answer = await rawHttp(
        b.url,
        `POST ${path} HTTP/1.1\r\nHost: ${new URL(b.url).host}\r\nAuthorization: Bearer ${alice.token}\r\n` +
          `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      assert.doesNotMatch(answer, /evil/, 'the answer came from the other host');
      assert.match(answer, /^HTTP\/1\.1 [1-5]\d\d /);
    }
    assert.equal(target.connections(), 0, 'the gateway connected to the host named in the request line');
  });

  it('does not follow a redirect from a peer', async () => {
    const target = await evil();
    // A "peer" (a row in instances, as a compromised or misconfigured instance could write) that redirects.
    const redirector: HttpServer = createHttpServer((_req, res) => {
      res.writeHead(307, { Location: `${target.url}/stolen` }).end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => redirector.close(r)));
    const peerId = `peer-${randomBytes(4).toString('hex')}`;
    const streamId = `ps_${randomBytes(12).toString('base64url')}`;
    await db.query(`INSERT INTO instances (id, url, heartbeat_at) VALUES ($1, $2, now())`, [
      peerId,
      `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`,
    ]);
    await db.query(
      `INSERT INTO sessions (stream_id, username, jid, instance_id, state) VALUES ($1, 'ghost', 'ghost@x', $2, 'online')`,
      [streamId, peerId],
    );
    closers.push(async () => {
      await db.query(`DELETE FROM sessions WHERE stream_id = $1`, [streamId]);
      await db.query(`DELETE FROM instances WHERE id = $1`, [peerId]);
    });
    const res = await fetch(`${b.url}/restapi/v1/chat/${streamId}/messages/bob`, {
      method: 'POST',
      headers: { Authorization: 'Bearer whatever', 'Content-Type': 'text/plain' },
      body: 'secret body',
      redirect: 'manual',
    });
    const text = await res.text();
    assert.equal(target.connections(), 0, 'the redirect was followed (the body went to its target)');
    assert.equal(res.status, 503, text);
  });

  it('refuses calls that claim to come from a peer without a valid cluster signature', async () => {
    const alice = await login(a, 'alice');
    const unsigned: Record<string, string>[] = [
      { 'X-Parley-Forwarded-By': 'someone' },
      { 'X-Parley-Forwarded-By': 'someone', 'X-Parley-Cluster-Auth': `${Math.floor(Date.now() / 1000)}.00` },
    ];
    for (const headers of unsigned) {
      const r = await fetch(`${a.url}/restapi/v1/chat/${alice.streamId}`, {
        headers: { ...headers, Authorization: `Bearer ${alice.token}` },
      });
      assert.equal(r.status, 403, await r.text());
    }
  });

  it('binds a signature to its time, credentials and body', async () => {
    const alice = await login(a, 'alice');
    const bob = await login(a, 'bob');
    const path = `/restapi/v1/chat/${alice.streamId}/messages/${bob.username}`;
    const sha = (v: string) => createHash('sha256').update(v).digest('hex');
    // As an instance signs (src/cluster/forward.ts): time, instance, method, path+query, client, auth, body.
    const signedCall = (ts: number, auth: string, body: string, sentAuth = auth, sentBody = body) => {
      const mac = createHmac('sha256', clusterKey)
        .update([ts, 'peer', 'POST', path, '127.0.0.1', sha(auth), sha(body)].join('\n'))
        .digest('hex');
      return fetch(`${a.url}${path}`, {
        method: 'POST',
        headers: {
          'X-Parley-Forwarded-By': 'peer',
          'X-Parley-Client-Address': '127.0.0.1',
          'X-Parley-Cluster-Auth': `${ts}.${mac}`,
          Authorization: sentAuth,
          'Content-Type': 'text/plain',
        },
        body: sentBody,
      });
    };
    const now = Math.floor(Date.now() / 1000);
    const auth = `Bearer ${alice.token}`;
    assert.equal((await signedCall(now, auth, 'signed')).status, 201);
    assert.equal((await signedCall(now - 120, auth, 'too old')).status, 403);
    assert.equal((await signedCall(now, auth, 'signed', auth, 'another body')).status, 403);
    assert.equal((await signedCall(now, 'Bearer other', 'x', auth)).status, 403);
  });

  it('an instance with another cluster key is refused by its peers', async () => {
    const alice = await login(a, 'alice');
    const stranger = await startGateway({
      DATABASE_URL: dbUrl,
      PARLEY_SECRET: a.secret,
      PARLEY_CLUSTER_KEY: randomBytes(24).toString('base64url'),
    });
    closers.push(() => stranger.stop());
    const r = await call(`${stranger.url}/restapi/v1/chat/${alice.streamId}`, { auth: bearer(alice.token) });
    assert.equal(r.status, 403, r.text);
    assert.match(r.text, /cluster/);
  });
});
