import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { registerOnDemo, startDemo, type Demo } from '../helpers/demo.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { startStaticPages, type StaticPages } from '../helpers/staticPages.js';
import { uniqueUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { CHROMIUM, SHOTS, CHROMIUM_ARGS as ARGS, DESKTOP, PHONE } from '../helpers/browser.js';

/**
 * Issue 18's acceptance in a browser: a Fastpath visitor page written as the published ofchat clients are
 * (plain fetch, the event-source-polyfill package sending Basic credentials, the Openfire-compatible face
 * `/rest/api/restapi/v1`), served from another origin, runs in headless Chromium against `npm run demo`
 * (started with PARLEY_CORS_ORIGINS naming the page's origin). The visitor, an XMPP account with its own
 * password, logs in, asks the demo's "help" queue (long poll), meets the expert (alice, driven through
 * Parley's own REST face from this process) in the room named by `sender`, messages go both ways, and the
 * visitor leaves and logs off. Then the same on a phone-sized screen, with the expert entering after the
 * visitor (the page finds her from the occupant's presence). Screens go to screenshots/latest/.
 */

const DOMAIN = 'localhost';

type Login = { streamId: string; token: string; events: string };

/** The expert: alice, a member of the demo's "help" queue, on duty through Parley's own face. */
interface Expert {
  events: SseClient;
  api(path: string, init?: Parameters<typeof call>[1]): ReturnType<typeof call>;
}

describe('an ofchat visitor page on another origin against npm run demo (headless Chromium)', function () {
  this.timeout(180_000);
  let dataDir = '';
  let demo: Demo | undefined;
  let pages: StaticPages | undefined;
  let browser: Browser | undefined;
  let expert: Expert | undefined;
  const contexts: BrowserContext[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run scripts/ensure-system.sh (installs Debian's chromium)`);
    mkdirSync(SHOTS, { recursive: true });
    pages = await startStaticPages({
      '/': join(PROJECT_ROOT, 'test', 'e2e', 'pages'),
      '/vendor/': join(PROJECT_ROOT, 'node_modules', 'event-source-polyfill', 'src'),
    });
    dataDir = await mkdtemp(join(rig.tmp, 'demo-visitor-'));
    [demo, browser] = await Promise.all([
      startDemo(dataDir, { PARLEY_CORS_ORIGINS: pages.origin, XMPP_DOMAIN: DOMAIN }),
      chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true }),
    ]);
    assert.notEqual(new URL(demo.url).origin, pages.origin, 'the page is on another origin');
    expert = await onDuty(demo, 'alice');
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
  });
  after(async () => {
    expert?.events.close();
    await browser?.close();
    await demo?.stop();
    await pages?.stop();
  });

  /** An expert logged in with the master secret (the demo logged alice in already), her stream open, on duty. */
  async function onDuty(d: Demo, username: string): Promise<Expert> {
    const l = await call<Login>(`${d.url}/restapi/v1/chat/${username}/login`, {
      method: 'POST',
      auth: d.secret,
    });
    assert.ok(l.status === 200 || l.status === 201, l.text);
    const events = new SseClient(withToken(l.body.events, l.body.token));
    await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    const api: Expert['api'] = (path, init = {}) =>
      call(`${d.url}/restapi/v1/chat/${l.body.streamId}${path}`, { auth: bearer(l.body.token), ...init });
    const duty = await api('/assists/help', { json: { show: 'chat', maxChats: 2 } });
    assert.equal(duty.status, 200, duty.text);
    return { events, api };
  }

  /** A visitor's account with a password of its own, as an ofchat site's users have (registered on the demo's
   * XMPP server the way the rig registers users: prosodyctl, or ejabberd's HTTP API). */
  async function visitorAccount(): Promise<{ username: string; password: string }> {
    const username = uniqueUser('visitor');
    const password = randomBytes(9).toString('base64url');
    await registerOnDemo(dataDir, DOMAIN, username, password);
    return { username, password };
  }

  async function openPage(v: { username: string; password: string }, viewport: typeof DESKTOP) {
    const ctx = await browser!.newContext({ viewport });
    contexts.push(ctx);
    const page = await ctx.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
    const q = new URLSearchParams({
      server: demo!.url,
      username: v.username,
      password: v.password,
      workgroup: 'help',
    });
    await page.goto(`${pages!.origin}/visitor.html?${q}`);
    return { page, problems };
  }

  /** Waits until the page reaches `s`, or fails with what the page says if it failed first. */
  async function state(page: Page, s: string, status?: string): Promise<void> {
    await page.locator(`body[data-state="${s}"], body[data-state="error"]`).waitFor({ timeout: 30_000 });
    if (status !== undefined) assert.equal(await page.locator('#status').textContent(), status);
    assert.equal(
      await page.locator('body').getAttribute('data-state'),
      s,
      (await page.locator('#status').textContent()) ?? '',
    );
  }

  async function flow(viewport: typeof DESKTOP, tag: string, lateExpert: boolean): Promise<void> {
    const ex = expert!;
    const visitor = await visitorAccount();
    const { page, problems } = await openPage(visitor, viewport);
    const from = ex.events.events.length;

    // The visitor asks: login, /sse/{user} through the polyfill, then the long-polled POST /ask/.
    const question = `Where do I find my meter's serial number? (${tag})`;
    await page.getByLabel('Your question').fill(question);
    const login = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/login'));
    await page.getByRole('button', { name: 'Ask' }).click();
    // Cross-origin, so the browser let the page read the stream id only because CORS allowed its origin.
    assert.equal((await login).headers()['access-control-allow-origin'], pages!.origin);
    await state(page, 'waiting');

    // The expert is offered the visitor's question and accepts; the workgroup invites her into the room.
    const offer = await ex.events.next(
      (e) =>
        e.name === 'chatapi.assist' &&
        e.data.type === 'offerReceived' &&
        (e.data.metaData as { question?: string }).question === question,
      30_000,
      from,
    );
    assert.equal((await ex.api(`/offer/${String(offer.data.offerId)}`, { method: 'POST' })).status, 200);
    const invitation = await ex.events.next(
      (e) => e.name === 'chatapi.muc' && e.data.type === 'invitationReceived',
      20_000,
      from,
    );
    const room = String(invitation.data.room);
    // Either side may enter first. On the phone the expert waits until the visitor is in the room, so the page
    // must notice her arrival from the occupant's presence on its event stream.
    if (lateExpert) await state(page, 'in-room');
    const joined = await ex.api(`/rooms/${room}`, { method: 'PUT' });
    assert.ok(joined.status === 200 || joined.status === 201, joined.text);

    // The page joined the room named by the ask's `sender` and found its expert among the participants.
    await state(page, 'with-agent');
    assert.equal(await page.locator('#agentName').textContent(), 'alice');

    // Visitor → expert: the page posts encodeURIComponent(JSON) labelled application/json, as published pages do.
    const ask = 'It says E-3 on the screen';
    await page.getByLabel('Message').fill(ask);
    await page.getByRole('button', { name: 'Send' }).click();
    const got = await ex.events.next(
      (e) =>
        e.name === 'chatapi.muc' &&
        e.data.type === 'groupchat' &&
        e.data.room === room &&
        String(e.data.from).split('/')[1] === visitor.username,
      20_000,
      from,
    );
    assert.deepEqual(JSON.parse(decodeURIComponent(String(got.data.body))), { type: 'Text', data: ask });
    await page.locator('li.msg.mine', { hasText: ask }).waitFor();

    // Expert → visitor: the answer in the page's own format, and the page shows it decoded.
    const answer = 'Take the battery out for ten seconds';
    const posted = await ex.api(`/rooms/${room}`, {
      body: encodeURIComponent(`{ "type" : "Text", "data" : "${answer}"}`),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(posted.status, 201, posted.text);
    await page.locator('li.msg[data-from="alice"]', { hasText: answer }).waitFor();

    await page.screenshot({ path: join(SHOTS, `visitor-page-${tag}.png`) });
    if (viewport === PHONE)
      assert.equal(
        await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        ),
        0,
        'no horizontal scrolling',
      );

    // The visitor leaves: the page leaves the room and logs off; the expert sees the visitor go.
    await page.getByRole('button', { name: 'Leave' }).click();
    await state(page, 'ended');
    await ex.events.next(
      (e) =>
        e.name === 'chatapi.presence' &&
        e.data.type === 'unavailable' &&
        e.data.room === room &&
        e.data.nick === visitor.username,
      20_000,
      from,
    );
    assert.equal((await ex.api(`/rooms/${room}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(problems, []);
  }

  it('logs in, asks, meets the expert in the room, messages go both ways, leaves', async () => {
    await flow(DESKTOP, 'desktop', false);
  });

  it('the same on a phone-sized screen, the expert entering the room after the visitor', async () => {
    await flow(PHONE, 'phone', true);
  });

  it('is refused to a page on an origin PARLEY_CORS_ORIGINS does not name', async () => {
    const elsewhere = await startStaticPages({ '/': join(PROJECT_ROOT, 'test', 'e2e', 'pages') });
    try {
      const ctx = await browser!.newContext({ viewport: DESKTOP });
      contexts.push(ctx);
      const page = await ctx.newPage();
      const q = new URLSearchParams({
        server: demo!.url,
        username: 'nobody',
        password: 'x',
        workgroup: 'help',
      });
      await page.goto(`${elsewhere.origin}/visitor.html?${q}`);
      await page.getByLabel('Your question').fill('Anyone?');
      await page.getByRole('button', { name: 'Ask' }).click();
      // The browser withholds the answer (no Access-Control-Allow-Origin for this origin): fetch rejects.
      await state(page, 'error', 'Could not reach an expert: Failed to fetch');
    } finally {
      await elsewhere.stop();
    }
  });
});
