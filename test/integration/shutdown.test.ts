import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../tools/servers/freePort.js';
import { call, withToken, bearer } from '../helpers/http.js';
import { freshDatabase } from '../rig/db.js';
import { registerUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

type Login = { streamId: string; token: string; events: string };

/** The real entry point (src/main.ts) as an operator runs it, so SIGTERM is the real signal path. */
async function startMain(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env, PARLEY_PORT: String(port), PARLEY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`gateway exited: ${out}`);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 300) throw new Error(`gateway did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, exited, output: () => out };
}

describe('graceful shutdown (SIGTERM under load)', function () {
  this.timeout(60_000);

  it('loses no acknowledged message, gives streams a retry hint, and exits within the deadline', async () => {
    const secret = randomBytes(18).toString('base64url');
    const env = {
      PARLEY_SECRET: secret,
      DATABASE_URL: await freshDatabase(),
      PARLEY_DATA_DIR: rig.tmp,
      XMPP_DOMAIN: rig.xmpp.domain,
      XMPP_SERVICE: rig.xmpp.service,
      XMPP_ADMIN_JID: rig.xmpp.adminJid,
      XMPP_ADMIN_PASSWORD: rig.xmpp.adminPassword,
    };
    const gw = await startMain(env);
    const [a, b] = [await registerUser('load'), await registerUser('sink')];
    const la = (
      await call<Login>(`${gw.url}/restapi/v1/chat/${a.username}/login`, { json: { password: a.password } })
    ).body;
    const lb = (
      await call<Login>(`${gw.url}/restapi/v1/chat/${b.username}/login`, { json: { password: b.password } })
    ).body;
    const stream = fetch(withToken(lb.events, lb.token)).then((r) => r.text());

    const acknowledged: string[] = [];
    let stop = false;
    const sender = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const body = `w${n}-${i}`;
        const r = await fetch(`${gw.url}/restapi/v1/chat/${la.streamId}/messages/${b.username}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${la.token}`, 'Content-Type': 'text/plain' },
          body,
        }).catch(() => undefined);
        if (r?.status === 201) acknowledged.push(body);
        else if (r === undefined || r.status >= 500) return;
      }
    };
    const senders = Promise.all([1, 2, 3, 4].map(sender));
    await new Promise((r) => setTimeout(r, 700));
    const t0 = Date.now();
    gw.child.kill('SIGTERM');
    const code = await gw.exited;
    stop = true;
    await senders;
    assert.equal(code, 0, gw.output());
    assert.ok(Date.now() - t0 < 10_000, 'exits within the 10 s deadline');
    assert.ok(acknowledged.length > 0, 'load was running');
    assert.match(await stream, /retry:1000/, 'open streams were told to reconnect');

    const again = await startMain(env);
    try {
      const stored = new Set<string>();
      for (let before = ''; ;) {
        const page = await call<{ messages: { body: string }[]; page: { hasMore: boolean; before: string } }>(
          `${again.url}/restapi/v1/chat/${a.username}/messages?limit=500${before ? `&before=${before}` : ''}`,
          { auth: secret },
        );
        for (const m of page.body.messages) stored.add(m.body);
        if (!page.body.page.hasMore) break;
        before = page.body.page.before;
      }
      assert.deepEqual(
        acknowledged.filter((m) => !stored.has(m)),
        [],
        'every acknowledged message is in history',
      );
      // The session outlived the restart: the same stream id and token answer on the restarted gateway.
      const restored = await call<{ streamId: string }>(`${again.url}/restapi/v1/chat/${la.streamId}`, {
        auth: bearer(la.token),
      });
      assert.equal(restored.status, 200, restored.text);
      assert.equal(restored.body.streamId, la.streamId);
      await call(`${again.url}/restapi/v1/chat/${la.streamId}/logoff`, {
        method: 'POST',
        auth: bearer(la.token),
      });
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  });
});
