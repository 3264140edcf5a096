import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signHostLogin } from '../../src/hostsite/hostToken.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { gatewayFixture } from '../helpers/fixture.js';
import { startGateway } from '../helpers/gateway.js';
import { bearer, call } from '../helpers/http.js';
import { rig } from '../rig/rig.js';
import { uniqueUser } from '../rig/users.js';

const run = promisify(execFile);
const KEY = 'k'.repeat(20) + 'host-site-shared-key-for-tests';
type Login = { streamId: string; token: string; jid: string; reused: boolean };
type Problem = { code: string; detail?: string };
type HostUsers = { users: { id: string; name: string | null; city: string | null; age: number | null }[] };

/** The three host-side snippets of docs/host-site.md, each made a program that prints a token. */
async function snippets(): Promise<Record<'php' | 'js' | 'python', string>> {
  const doc = await readFile(join(PROJECT_ROOT, 'docs', 'host-site.md'), 'utf8');
  const block = (lang: string, marker: string) => {
    const found = [...doc.matchAll(/```(\w+)\n([\s\S]*?)```/g)].find(
      (m) => m[1] === lang && m[2]!.includes(marker),
    );
    assert.ok(found, `docs/host-site.md has no ${lang} block with ${marker}`);
    return found[2]!;
  };
  return {
    php: block('php', 'function parley_host_token'),
    js: block('js', 'function parleyHostToken'),
    python: block('python', 'def parley_host_token'),
  };
}

/** Runs a snippet in its own language (node, php, python3) for user `id`, returning what it printed. */
async function tokenFrom(lang: 'php' | 'js' | 'python', code: string, id: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'host-snippet-'));
  const [file, cmd, tail] =
    lang === 'js'
      ? ['t.mjs', 'node', 'console.log(parleyHostToken(process.argv[2], process.argv[3]));']
      : lang === 'php'
        ? ['t.php', 'php', 'echo parley_host_token($argv[1], $argv[2]), "\\n";']
        : ['t.py', 'python3', 'import sys\nprint(parley_host_token(sys.argv[1], sys.argv[2]))'];
  await writeFile(join(dir, file), `${code}\n${tail}\n`);
  const { stdout } = await run(cmd, [join(dir, file), id, KEY]);
  return stdout.trim();
}

/** The host site: Star.Comet's URL_getUsersInfo, a real HTTP server on loopback. */
class HostSite {
  server!: Server;
  profiles = new Map<string, { name: string; city: string; age: number }>();
  asked: string[] = [];
  failing = false;
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const users = new URLSearchParams(body).get('users') ?? '';
        this.asked.push(`${req.method} ${req.headers['content-type']} ${users}`);
        if (this.failing) {
          res.writeHead(500).end('down');
          return;
        }
        if (users === 'notjson') {
          res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>oops</html>');
          return;
        }
        if (users === 'odd') {
          // What PHP sites send: numbers as strings, empty strings, a non-http avatar.
          const item = {
            user_id: 'odd',
            name: 'Odd',
            age: '27',
            city: '',
            avatar_url: 'javascript:alert(1)',
          };
          res
            .writeHead(200, { 'Content-Type': 'application/json' })
            .end(JSON.stringify([item, 'junk', null]));
          return;
        }
        const list = users.split(',').flatMap((id) => {
          const p = this.profiles.get(id);
          return p
            ? [{ user_id: id, avatar_url: `https://site.example/a/${id}.jpg`, login: id, status: 'x', ...p }]
            : [];
        });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(list));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/users-info.php`;
  }
}

describe('host site: signed logins and user info (real Prosody, a real host site)', function () {
  this.timeout(60_000);
  const site = new HostSite();
  const env: Record<string, string> = {
    PARLEY_HOST_LOGIN_KEY: KEY,
    PARLEY_HOST_LOGIN_MAX_SECONDS: '120',
    PARLEY_HOST_USERS_TTL_SECONDS: '600',
    PARLEY_LOGIN_MAX_FAILURES: '3',
  };
  before(async () => {
    env.PARLEY_HOST_USERS_URL = await site.start();
  });
  after(() => site.server?.close());
  const fx = gatewayFixture({ env });
  const hostLogin = (token: string, ip = '192.0.2.50') =>
    call<Login & Problem>(`${fx.gw.url}/restapi/v1/host/login`, {
      json: { token },
      headers: { 'X-Forwarded-For': ip },
    });
  const now = () => Math.floor(Date.now() / 1000);

  it('logs a user in with the token of each documented snippet (Node, PHP, Python), creating the account', async () => {
    const code = await snippets();
    for (const lang of ['js', 'php', 'python'] as const) {
      const id = uniqueUser(`host${lang}`);
      const token = await tokenFrom(lang, code[lang], id);
      assert.match(token, new RegExp(`^${id}\\.\\d{10}\\.[0-9a-f]{64}$`), `${lang} printed ${token}`);
      const res = await hostLogin(token);
      assert.equal(res.status, 201, `${lang}: ${res.text}`);
      assert.equal(res.body.jid, `${id}@${rig.xmpp.domain}`);
      // The answer is a real session: its token works on its stream.
      const s = await call(`${fx.gw.url}/restapi/v1/chat/${res.body.streamId}`, {
        auth: bearer(res.body.token),
      });
      assert.equal(s.status, 200, s.text);
    }
  });

  it('takes the token as a text body too, and each token only once', async () => {
    const id = uniqueUser('hostonce');
    const token = signHostLogin(KEY, id, now() + 60);
    const first = await call<Login>(`${fx.gw.url}/restapi/v1/host/login`, { text: token });
    assert.equal(first.status, 201, first.text);
    const again = await hostLogin(token);
    assert.equal(again.status, 401);
    assert.match(again.body.detail ?? '', /used already/);
    // A fresh token for the same user (another expiry, so another signature) joins the live session.
    const next = await hostLogin(signHostLogin(KEY, id, now() + 61));
    assert.equal(next.status, 200, next.text);
    assert.equal(next.body.reused, true);
    assert.equal(next.body.streamId, first.body.streamId);
  });

  it('refuses a wrong key, an expired token and one that lives too long, and backs off like passwords', async () => {
    const id = uniqueUser('hostbad');
    const ip = '192.0.2.77';
    const wrongKey = await hostLogin(signHostLogin('x'.repeat(40), id, now() + 60), ip);
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body.code, 'BAD_CREDENTIALS');
    const expired = await hostLogin(signHostLogin(KEY, id, now() - 120), ip);
    assert.equal(expired.status, 401);
    assert.match(expired.body.detail ?? '', /expired/);
    const tooLong = await hostLogin(signHostLogin(KEY, id, now() + 3600), ip);
    assert.equal(tooLong.status, 401);
    assert.match(tooLong.body.detail ?? '', /too long/);
    // Three failures for this user from this address: even a good token waits now.
    const held = await hostLogin(signHostLogin(KEY, id, now() + 60), ip);
    assert.equal(held.status, 429, held.text);
    assert.equal(held.body.code, 'LOGIN_THROTTLED');
    assert.ok(Number(held.headers.get('retry-after')) >= 1);
    // Within the clock skew a token that just expired still works (from another address).
    const skewed = await hostLogin(signHostLogin(KEY, uniqueUser('hostskew'), now() - 10), '192.0.2.78');
    assert.equal(skewed.status, 201, skewed.text);
    const malformed = await hostLogin('not-a-token', '192.0.2.79');
    assert.equal(malformed.status, 401);
  });

  it('shows user info from the host site, cached, refreshed on demand', async () => {
    const me = await hostLogin(signHostLogin(KEY, uniqueUser('hostinfo'), now() + 60));
    assert.equal(me.status, 201, me.text);
    const auth = bearer(me.body.token);
    const base = `${fx.gw.url}/restapi/v1/chat/${me.body.streamId}/host/users`;
    site.profiles.set('17', { name: 'Anna', city: 'Berlin', age: 34 });
    site.profiles.set('42', { name: 'Omar', city: 'Cairo', age: 51 });
    site.asked = [];

    const first = await call<HostUsers>(`${base}?ids=17,42,99`, { auth });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(
      first.body.users.map((u) => [u.id, u.name, u.city, u.age]),
      [
        ['17', 'Anna', 'Berlin', 34],
        ['42', 'Omar', 'Cairo', 51],
      ],
    );
    assert.deepEqual(site.asked, ['POST application/x-www-form-urlencoded 17,42,99']);

    // Cached, the unknown id included: the site is not asked again.
    site.profiles.set('17', { name: 'Anna K.', city: 'Hamburg', age: 35 });
    const cached = await call<HostUsers>(`${base}?ids=17,99`, { auth });
    assert.equal(cached.body.users[0]!.name, 'Anna');
    assert.equal(site.asked.length, 1);

    // The client's refresh asks now.
    const fresh = await call<HostUsers>(`${base}/refresh`, { auth, json: { ids: ['17'] } });
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal(fresh.body.users[0]!.city, 'Hamburg');
    assert.equal(site.asked.length, 2);

    // The site's server says 42 changed (master secret).
    site.profiles.set('42', { name: 'Omar S.', city: 'Cairo', age: 52 });
    const bySite = await call<HostUsers>(`${fx.gw.url}/restapi/v1/host/users/refresh`, {
      auth: fx.gw.secret,
      json: { ids: ['42'] },
    });
    assert.equal(bySite.status, 200, bySite.text);
    assert.equal((await call<HostUsers>(`${base}?ids=42`, { auth })).body.users[0]!.name, 'Omar S.');
    // …which a session token may not do.
    const notMaster = await call(`${fx.gw.url}/restapi/v1/host/users/refresh`, {
      auth,
      json: { ids: ['42'] },
    });
    assert.equal(notMaster.status, 403);

    // The site goes down: cached profiles are still served; an id never seen is a 502.
    site.failing = true;
    assert.equal((await call<HostUsers>(`${base}?ids=17`, { auth })).body.users[0]!.name, 'Anna K.');
    const down = await call<Problem>(`${base}?ids=500`, { auth });
    assert.equal(down.status, 502, down.text);
    assert.equal(down.body.code, 'HOST_SITE_UNAVAILABLE');
    site.failing = false;

    const bad = await call<Problem>(`${base}?ids=`, { auth });
    assert.equal(bad.status, 400);
  });
});

describe('host site: answers of a host site that is odd, and a gateway without one', function () {
  this.timeout(60_000);
  const site = new HostSite();
  const env: Record<string, string> = { PARLEY_HOST_LOGIN_KEY: KEY };
  before(async () => {
    env.PARLEY_HOST_USERS_URL = await site.start();
  });
  after(() => site.server?.close());
  const fx = gatewayFixture({ env });

  it('reads numbers sent as strings, drops non-http avatars and junk items, and refuses a non-JSON answer', async () => {
    const me = await call<Login>(`${fx.gw.url}/restapi/v1/host/login`, {
      json: { token: signHostLogin(KEY, uniqueUser('hostodd'), Math.floor(Date.now() / 1000) + 60) },
    });
    assert.equal(me.status, 201, me.text);
    const base = `${fx.gw.url}/restapi/v1/chat/${me.body.streamId}/host/users`;
    const odd = await call<{ users: Record<string, unknown>[] }>(`${base}?ids=odd`, {
      auth: bearer(me.body.token),
    });
    assert.equal(odd.status, 200, odd.text);
    assert.deepEqual(
      odd.body.users.map(({ fetchedAt, ...u }) => (assert.ok(fetchedAt), u)),
      [{ id: 'odd', name: 'Odd', avatarUrl: null, city: null, age: 27, status: null, login: null }],
    );
    const notJson = await call<Problem>(`${base}?ids=notjson`, { auth: bearer(me.body.token) });
    assert.equal(notJson.status, 502, notJson.text);
    assert.equal(notJson.body.code, 'HOST_SITE_UNAVAILABLE');
  });

  it('lets a user refresh 10 times a minute, then answers 429', async () => {
    const me = await call<Login>(`${fx.gw.url}/restapi/v1/host/login`, {
      json: { token: signHostLogin(KEY, uniqueUser('hostrefresh'), Math.floor(Date.now() / 1000) + 60) },
    });
    assert.equal(me.status, 201, me.text);
    const refresh = () =>
      call<Problem>(`${fx.gw.url}/restapi/v1/chat/${me.body.streamId}/host/users/refresh`, {
        auth: bearer(me.body.token),
        json: { ids: ['odd'] },
      });
    for (let i = 0; i < 10; i++) assert.equal((await refresh()).status, 200);
    const over = await refresh();
    assert.equal(over.status, 429, over.text);
    assert.equal(over.body.code, 'RATE_LIMITED');
  });

  it('answers 501 HOST_SITE_DISABLED where nothing is configured', async () => {
    const plain = await startGateway();
    try {
      const login = await call<Problem>(`${plain.url}/restapi/v1/host/login`, { json: { token: 'x' } });
      assert.equal(login.status, 501, login.text);
      assert.equal(login.body.code, 'HOST_SITE_DISABLED');
      const l = await call<Login>(`${plain.url}/restapi/v1/chat/${uniqueUser('plain')}/login`, {
        method: 'POST',
        auth: plain.secret,
      });
      assert.equal(l.status, 201, l.text);
      const users = await call<Problem>(`${plain.url}/restapi/v1/chat/${l.body.streamId}/host/users?ids=1`, {
        auth: bearer(l.body.token),
      });
      assert.equal(users.status, 501, users.text);
      const bySite = await call<Problem>(`${plain.url}/restapi/v1/host/users/refresh`, {
        auth: plain.secret,
        json: { ids: ['1'] },
      });
      assert.equal(bySite.status, 501, bySite.text);
    } finally {
      await plain.stop();
    }
  });
});
