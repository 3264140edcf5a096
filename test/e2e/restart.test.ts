import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../../tools/servers/freePort.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { approveOnceRequested } from '../helpers/subscriptions.js';
import { bearer, call } from '../helpers/http.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';
import { registerUser, uniqueUser } from '../rig/users.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { CHROMIUM, CHROMIUM_ARGS as ARGS } from '../helpers/browser.js';
import { WEB_DIST } from '../../src/http/routes/webClient.js';

type Login = { streamId: string; token: string; jid: string };

/**
 * The web client across a gateway restart: the pages stay open, their event streams come back by
 * themselves with Last-Event-ID, a message that reached the XMPP server while no gateway ran shows up,
 * and the users go on chatting — nothing lost, nothing doubled, no new login.
 */
describe('web client across a gateway restart (headless Chromium)', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let gw: TestGateway | undefined;
  let dbUrl = '';
  let peer: XmppPeer | undefined;

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run scripts/ensure-system.sh (installs Debian's chromium)`);
    if (!existsSync(join(WEB_DIST, 'index.html')))
      execFileSync('npm', ['run', '--silent', 'build:web'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  });
  after(async () => {
    await peer?.stop();
    await browser?.close();
    await gw?.stop();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it('resumes both pages after the gateway restarts, with what arrived meanwhile', async () => {
    dbUrl = await freshDatabase();
    const env = {
      PARLEY_PORT: String(await freePort()),
      PARLEY_INSTANCE_ID: `web-restart-${randomBytes(3).toString('hex')}`,
      PARLEY_SECRET: randomBytes(18).toString('base64url'),
      DATABASE_URL: dbUrl,
    };
    gw = await startGateway(env);
    // Alice's site logs her in with the master secret (a managed account); Bob logs in with his own password.
    const aName = uniqueUser('alice');
    const la = await call<Login>(`${gw.url}/restapi/v1/chat/${aName}/login`, {
      method: 'POST',
      auth: gw.secret,
    });
    assert.equal(la.status, 201, la.text);
    const bob = await registerUser('bob');
    const lb = await call<Login>(`${gw.url}/restapi/v1/chat/${bob.username}/login`, {
      json: { password: bob.password },
    });
    assert.equal(lb.status, 201, lb.text);
    const [a, b] = [la.body, lb.body];
    await call(`${gw.url}/restapi/v1/chat/${a.streamId}/contacts`, {
      auth: bearer(a.token),
      json: { jid: bob.username },
    });
    await approveOnceRequested(gw.url, b.streamId, bearer(b.token), a.jid);

    const page = async (l: Login, open: string): Promise<Page> => {
      const p = await browser!.newPage({ viewport: { width: 900, height: 600 } });
      p.on('pageerror', (err) => {
        console.error('page error:', err);
      });
      await p.goto(
        `${gw!.url}/chat/#streamId=${l.streamId}&token=${encodeURIComponent(l.token)}&open=${open}`,
      );
      await p.locator('.conn-online').waitFor();
      return p;
    };
    const A = await page(a, bob.username);
    const B = await page(b, aName);
    const send = async (p: Page, text: string) => {
      const input = p.getByLabel(/^Message to /);
      await input.fill(text);
      await input.press('Enter');
    };
    await send(A, 'before the restart');
    await B.locator('.msg-in', { hasText: 'before the restart' }).waitFor();

    await gw.parley.stop();
    await A.locator('.conn-reconnecting').waitFor({ timeout: 15_000 });
    // Bob writes from his phone (a native XMPP client) while no gateway runs: it waits in the server.
    peer = await XmppPeer.connect(bob.username, bob.password, 'phone');
    await peer.send(
      xml(
        'message',
        { to: a.jid, type: 'chat', id: 'phone-1' },
        xml('body', {}, 'from my phone while you were away'),
      ),
    );
    await peer.ping(a.jid.split('@')[1]!); // the server has taken the message once it answers after it

    gw = await startGateway(env);
    await A.locator('.conn-online').waitFor({ timeout: 45_000 });
    await B.locator('.conn-online').waitFor({ timeout: 45_000 });
    await A.locator('.msg-in', { hasText: 'from my phone while you were away' }).waitFor({ timeout: 30_000 });
    await send(A, 'after the restart');
    await B.locator('.msg-in', { hasText: 'after the restart' }).waitFor();
    await A.locator('.msg-out[data-status="displayed"]', { hasText: 'after the restart' }).waitFor();
    await send(B, 'still here');
    await A.locator('.msg-in', { hasText: 'still here' }).waitFor();
    for (const [p, text] of [
      [A, 'before the restart'],
      [B, 'before the restart'],
      [A, 'from my phone while you were away'],
    ] as const) {
      assert.equal(await p.locator('.msg', { hasText: text }).count(), 1, `${text} once`);
    }
    assert.equal(await A.locator('.conn', { hasText: 'Signed out' }).count(), 0, 'the session never ended');
  });
});
