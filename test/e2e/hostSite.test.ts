import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { signHostLogin } from '../../src/hostsite/hostToken.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { WEB_DIST } from '../../src/http/routes/webClient.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call } from '../helpers/http.js';
import { uniqueUser } from '../rig/users.js';

/**
 * The Star.Comet pieces of the web client in Debian's headless Chromium (playwright-core), against a real
 * Parley, Prosody and PostgreSQL and a real host site (a small HTTP server: its page and its user info URL):
 * the page logs its user in with a token its server signed, the host site's profile shows in a dialogue and
 * refreshes on demand, `Parley.countNewMessages(user)` counts per sender, a received message and a whole
 * dialogue are reported (and reach the admins' complaints list), and audio and video attachments play inline.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(
  PROJECT_ROOT,
  'test',
  'e2e',
  'screenshots',
  process.env.PARLEY_UPDATE_SCREENSHOTS === '1' ? '' : 'latest',
);
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];
const KEY = 'e2e-host-site-key-'.padEnd(40, 'x');
type Login = { streamId: string; token: string; jid: string };
type Win = Window & {
  Parley: { countNewMessages(u: string): number; unreadCount(): number; openDialog(u: string): void };
};

/** The host site: the page that embeds the chat, and Star.Comet's URL_getUsersInfo. */
class HostSite {
  server!: Server;
  page = '';
  profiles = new Map<string, { name: string; city: string; age: number }>();
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      if (req.url === '/users-info') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const ids = (new URLSearchParams(body).get('users') ?? '').split(',');
          const list = ids.flatMap((id) => {
            const p = this.profiles.get(id);
            return p ? [{ user_id: id, avatar_url: `https://localhost:9/avatars/${id}.png`, ...p }] : [];
          });
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(list));
        });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(this.page);
    });
    await new Promise<void>((r) => this.server.listen(0, 'localhost', r));
    return `http://localhost:${(this.server.address() as AddressInfo).port}`;
  }
}

describe('web client for a host site (Star.Comet) in headless Chromium', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let browser: Browser;
  let siteUrl: string;
  const site = new HostSite();
  const contexts: BrowserContext[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run scripts/ensure-system.sh (installs Debian's chromium)`);
    if (!existsSync(join(WEB_DIST, 'index.html')))
      execFileSync('npm', ['run', '--silent', 'build:web'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
    mkdirSync(SHOTS, { recursive: true });
    siteUrl = await site.start();
    [gw, browser] = await Promise.all([
      startGateway({
        PARLEY_HOST_LOGIN_KEY: KEY,
        PARLEY_HOST_USERS_URL: `${siteUrl.replace('localhost', '127.0.0.1')}/users-info`,
      }),
      chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true }),
    ]);
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.stop();
    site.server?.close();
  });

  const login = async (username: string): Promise<Login> => {
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${username}/login`, {
      method: 'POST',
      auth: gw.secret,
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return r.body;
  };
  const newPage = async (): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => console.error('page error:', err));
    return page;
  };
  /** The host site's page for `userId`: its server signed a token, the page hands it to Parley.init. */
  const hostPage = async (userId: string): Promise<Page> => {
    const token = signHostLogin(KEY, userId, Math.floor(Date.now() / 1000) + 120);
    site.page = `<!doctype html><html lang="en"><head><title>Dating site</title></head><body>
      <h1>Welcome back</h1>
      <script src="${gw.url}/chat/embed.js"></script>
      <script>Parley.init({ url: ${JSON.stringify(gw.url)}, hostToken: ${JSON.stringify(token)}, open: true });</script>
      </body></html>`;
    const page = await newPage();
    await page.goto(`${siteUrl}/`);
    return page;
  };
  const sendFile = async (from: Login, to: string, name: string, bytes: Buffer): Promise<void> => {
    const up = await fetch(`${gw.url}/restapi/v1/chat/${from.streamId}/files?name=${name}`, {
      method: 'POST',
      headers: { Authorization: bearer(from.token), 'Content-Type': 'application/octet-stream' },
      body: new Uint8Array(bytes),
    });
    assert.equal(up.status, 201, await up.clone().text());
    const { id } = (await up.json()) as { id: string };
    const sent = await call(`${gw.url}/restapi/v1/chat/${from.streamId}/messages/${to}`, {
      auth: bearer(from.token),
      json: { attachments: [id] },
    });
    assert.equal(sent.status, 201, sent.text);
  };

  it("logs the site user in with a signed token, shows their peer's profile, counts unread per user", async () => {
    const [me, bobName, carolName] = [uniqueUser('member'), uniqueUser('bob'), uniqueUser('carol')];
    site.profiles.set(bobName, { name: 'Bob Builder', city: 'Leeds', age: 41 });
    const [bob, carol] = [await login(bobName), await login(carolName)];
    const page = await hostPage(me);
    const frame = page.frameLocator('iframe[title="Chat"]');
    await frame.locator('.conn-online').waitFor();
    assert.equal(
      await frame.locator('.me-name').textContent(),
      me,
      'logged in as the site user, account created',
    );

    for (const [from, text] of [
      [bob, 'Hello from Bob'],
      [bob, 'Are you there?'],
      [carol, 'Hi, Carol here'],
    ] as const)
      await call(`${gw.url}/restapi/v1/chat/${from.streamId}/messages/${me}`, {
        auth: bearer(from.token),
        text,
      });
    await page.waitForFunction(() => (window as unknown as Win).Parley.unreadCount() === 3);
    const counts = await page.evaluate(
      ([b, c, jid]) => {
        const P = (window as unknown as Win).Parley;
        return [
          P.countNewMessages(b!),
          P.countNewMessages(c!),
          P.countNewMessages(jid!),
          P.countNewMessages('nobody'),
        ];
      },
      [bobName, carolName, bob.jid],
    );
    assert.deepEqual(counts, [2, 1, 2, 0]);

    // The host site's profile of Bob at the top of the dialogue; a refresh shows what changed on the site.
    await page.evaluate((u) => (window as unknown as Win).Parley.openDialog(u), bobName);
    const profile = frame.locator('.host-profile');
    await profile.getByText('Bob Builder').waitFor();
    await profile.getByText('Leeds, 41').waitFor();
    assert.equal(
      await profile.locator('img.host-avatar').getAttribute('src'),
      `https://localhost:9/avatars/${bobName}.png`,
    );
    await page.waitForFunction((b) => (window as unknown as Win).Parley.countNewMessages(b) === 0, bobName);
    assert.equal(
      await page.evaluate((c) => (window as unknown as Win).Parley.countNewMessages(c), carolName),
      1,
    );
    site.profiles.set(bobName, { name: 'Bob Builder', city: 'York', age: 42 });
    await profile.getByRole('button', { name: 'Refresh profile' }).click();
    await profile.getByText('York, 42').waitFor();
    await page.screenshot({ path: join(SHOTS, 'host-site-profile.png') });

    // Carol's dialogue: she is not on the host site's list, so no profile line.
    await page.evaluate((u) => (window as unknown as Win).Parley.openDialog(u), carolName);
    await frame.locator('.msg-in', { hasText: 'Hi, Carol here' }).waitFor();
    assert.equal(await frame.locator('.host-profile').count(), 0);
  });

  it('refuses a reused token in the page and says so', async () => {
    const me = uniqueUser('member');
    const token = signHostLogin(KEY, me, Math.floor(Date.now() / 1000) + 120);
    assert.equal((await call(`${gw.url}/restapi/v1/host/login`, { text: token })).status, 201);
    const page = await newPage();
    await page.goto(`${gw.url}/chat/#hostToken=${encodeURIComponent(token)}`);
    await page
      .getByRole('alert')
      .getByText(/sign-in was refused: this host login token was used already/)
      .waitFor();
  });

  it('reports a message and a dialogue; the complaints reach the admins', async () => {
    const [aliceName, spammerName] = [uniqueUser('alice'), uniqueUser('spammer')];
    const [alice, spammer] = [await login(aliceName), await login(spammerName)];
    await call(`${gw.url}/restapi/v1/chat/${spammer.streamId}/messages/${aliceName}`, {
      auth: bearer(spammer.token),
      text: 'Cheap watches, click here',
    });
    const page = await newPage();
    await page.goto(
      `${gw.url}/chat/#streamId=${alice.streamId}&token=${encodeURIComponent(alice.token)}&open=${spammerName}`,
    );
    const msg = page.locator('.msg-in', { hasText: 'Cheap watches' });
    await msg.waitFor();
    const messageId = await msg.getAttribute('data-id');
    assert.ok(messageId);
    await msg.getByRole('button', { name: 'Report this message' }).click();
    const form = page.getByRole('dialog', { name: `Report a message from ${spammerName}` });
    await form.getByLabel('Reason').selectOption('spam');
    await form.getByLabel('What happened (optional)').fill('ads all day');
    await page.screenshot({ path: join(SHOTS, 'report-message.png') });
    await form.getByRole('button', { name: 'Send report' }).click();
    await page.getByRole('status').filter({ hasText: 'Report sent' }).waitFor();

    // The whole dialogue, without blocking.
    await page.getByRole('button', { name: 'Report', exact: true }).click();
    const form2 = page.getByRole('dialog', { name: `Report ${spammerName}` });
    await form2.getByLabel('Reason').selectOption('abuse');
    await form2.getByLabel(/Also block/).uncheck();
    await form2.getByRole('button', { name: 'Send report' }).click();
    await page.getByRole('status').filter({ hasText: 'Report sent' }).waitFor();

    // At phone width the header keeps its buttons on screen.
    await page.setViewportSize({ width: 360, height: 700 });
    const report = page.getByRole('button', { name: 'Report', exact: true });
    const box = await report.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 360, `Report button at ${JSON.stringify(box)}`);
    assert.equal(
      await page.evaluate(() => document.documentElement.scrollWidth <= 360),
      true,
      'no sideways scroll',
    );

    const list = await call<{
      reports: { reason: string; text: string | null; messages: { body: string }[] }[];
    }>(`${gw.url}/restapi/v1/admin/reports?reported=${spammerName}`, { auth: gw.secret });
    assert.equal(list.status, 200, list.text);
    const reports = list.body.reports.map((r) => [r.reason, r.text, r.messages.map((m) => m.body)]);
    assert.deepEqual(reports.sort(), [
      ['abuse', null, []],
      ['spam', 'ads all day', ['Cheap watches, click here']],
    ]);
  });

  it('plays audio and video attachments inline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'media-'));
    const ff = (args: string[]) =>
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
    ff(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', join(dir, 'hello.wav')]);
    ff([
      '-f',
      'lavfi',
      '-i',
      'testsrc=duration=1:size=160x120:rate=10',
      '-c:v',
      'libvpx',
      '-b:v',
      '200k',
      join(dir, 'clip.webm'),
    ]);
    const [aName, bName] = [uniqueUser('alice'), uniqueUser('bob')];
    const [a, b] = [await login(aName), await login(bName)];
    await sendFile(b, aName, 'hello.wav', readFileSync(join(dir, 'hello.wav')));
    await sendFile(b, aName, 'clip.webm', readFileSync(join(dir, 'clip.webm')));
    const page = await newPage();
    await page.goto(
      `${gw.url}/chat/#streamId=${a.streamId}&token=${encodeURIComponent(a.token)}&open=${bName}`,
    );

    await page.getByRole('button', { name: /Play hello\.wav/ }).click();
    const audio = await page.waitForFunction(() => {
      const el = document.querySelector<HTMLAudioElement>('audio.media-player');
      return el && el.readyState >= 1 && el.src.startsWith('blob:') ? el.duration : 0;
    });
    const seconds = (await audio.jsonValue()) as number;
    assert.ok(Math.abs(seconds - 1) < 0.1, `the audio decoded: ${seconds} s`);

    await page.getByRole('button', { name: /Play clip\.webm/ }).click();
    const width = await page.waitForFunction(() => {
      const el = document.querySelector<HTMLVideoElement>('video.media-player');
      return el && el.readyState >= 1 && el.src.startsWith('blob:') ? el.videoWidth : 0;
    });
    assert.equal(await width.jsonValue(), 160, 'the video decoded at its size');
    await page.screenshot({ path: join(SHOTS, 'media-players.png') });
    assert.equal(await page.locator('.error, .file-error').count(), 0);
  });
});
