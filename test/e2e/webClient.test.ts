import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { approveOnceRequested } from '../helpers/subscriptions.js';
import { bearer, call } from '../helpers/http.js';
import { uniqueUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { CHROMIUM, SHOTS, CHROMIUM_ARGS as ARGS } from '../helpers/browser.js';
import { WEB_DIST, webClientRoutes } from '../../src/http/routes/webClient.js';
import { errorHandler } from '../../src/http/middleware/errorHandler.js';
import { createLogger } from '../../src/log.js';

/**
 * The web client (/chat/) in headless Chromium — Debian's `chromium` driven by playwright-core, never a
 * downloaded browser — against a real Parley, Prosody and PostgreSQL: two users in two browser contexts chat
 * (message, typing, delivered/read ticks, unread badges, history on scroll), survive a dropped event stream
 * (Last-Event-ID), share a room, send each other files (an image in a dialogue, a document in a room), and the
 * embed snippet works from another origin. Screenshots of the main screens go to
 * test/e2e/screenshots/latest/ (PARLEY_UPDATE_SCREENSHOTS=1 refreshes the copies docs/web-client.md shows).
 */

type Login = { streamId: string; token: string; jid: string };

describe('web client in headless Chromium', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run scripts/ensure-system.sh (installs Debian's chromium)`);
    if (!existsSync(join(WEB_DIST, 'index.html')))
      execFileSync('npm', ['run', '--silent', 'build:web'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
    mkdirSync(SHOTS, { recursive: true });
    [gw, browser] = await Promise.all([
      startGateway(),
      chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true }),
    ]);
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.stop();
  });

  /** What an embedding site's server does: log the user in with the master secret. */
  const login = async (username: string): Promise<Login> => {
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${username}/login`, {
      method: 'POST',
      auth: gw.secret,
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return r.body;
  };
  const befriend = async (a: Login, b: Login, aName: string, bName: string) => {
    await call(`${gw.url}/restapi/v1/chat/${a.streamId}/contacts`, {
      auth: bearer(a.token),
      json: { jid: bName },
    });
    // Bob's approval asks for Alice's presence in return (mutual); each approves once the request is there.
    await approveOnceRequested(gw.url, b.streamId, bearer(b.token), a.jid);
    await approveOnceRequested(gw.url, a.streamId, bearer(a.token), b.jid);
  };
  const chatUrl = (l: Login, open?: string) =>
    `${gw.url}/chat/#streamId=${l.streamId}&token=${encodeURIComponent(l.token)}${open ? `&open=${open}` : ''}`;
  const newPage = async (
    viewport = { width: 1000, height: 640 },
  ): Promise<{ ctx: BrowserContext; page: Page }> => {
    const ctx = await browser.newContext({ viewport });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => {
      console.error('page error:', err);
    });
    return { ctx, page };
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

  it('serves the built client with content types, caching and validators', async () => {
    const page = await fetch(`${gw.url}/chat/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, 'no CDN: every asset comes from Parley');
    const script = /src="\/chat\/([^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, html);
    const js = await fetch(`${gw.url}/chat/${script}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type')!, /^text\/javascript/);
    assert.match(js.headers.get('cache-control')!, /immutable/);
    // fetch adds `Cache-Control: no-cache` to conditional requests (which forbids a 304) unless one is set.
    const again = await fetch(`${gw.url}/chat/${script}`, {
      headers: { 'If-None-Match': js.headers.get('etag')!, 'Cache-Control': 'max-age=0' },
    });
    assert.equal(again.status, 304);
    const embed = await call(`${gw.url}/chat/embed.js`);
    assert.equal(embed.status, 200);
    assert.equal(embed.headers.get('cache-control'), 'no-cache');
    assert.equal((await call(`${gw.url}/chat/nope.js`)).status, 404);
    assert.equal((await fetch(`${gw.url}/chat/..%2Fpackage.json`)).status, 404);
  });

  it('answers 503 problem+json when the client is not built', async () => {
    const app = new Koa();
    const router = new Router();
    webClientRoutes(router, join(rig.tmp, 'no-such-dist'));
    app.use(errorHandler(createLogger('silent'))).use(router.routes());
    const server: Server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/chat/`);
      assert.equal(res.status, 503);
      assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
      const body = (await res.json()) as { detail: string; status: number };
      assert.equal(body.status, 503);
      assert.match(body.detail, /npm run build:web/);
    } finally {
      server.close();
    }
  });

  it('two users chat: typing, unread badge, delivered and read ticks, history on scroll, resume after a drop, favorites, a room, a call, blocking', async () => {
    const [aName, bName] = [uniqueUser('alice'), uniqueUser('bob')];
    const [a, b] = [await login(aName), await login(bName)];
    await befriend(a, b, aName, bName);
    const [aJid, bJid] = [a.jid, b.jid];
    // Older history for "load older on scroll": 40 messages from Bob before Alice opens the client.
    for (let i = 1; i <= 40; i++) {
      await call(`${gw.url}/restapi/v1/chat/${b.streamId}/messages/${aName}`, {
        auth: bearer(b.token),
        text: `older message ${i}`,
      });
    }

    const A = await newPage();
    const B = await newPage();
    await A.page.goto(chatUrl(a, bName));
    await B.page.goto(chatUrl(b));
    await A.page.locator('.conn-online').waitFor();
    await B.page.locator('.conn-online').waitFor();
    assert.equal(new URL(A.page.url()).hash, '', 'the token leaves the address bar');

    // Alice has Bob's dialogue open: the newest page of history, then older pages as she scrolls up.
    const aLog = A.page.locator('.log');
    await A.page.locator('.msg', { hasText: 'older message 40' }).waitFor();
    assert.equal(
      await A.page.locator('.msg', { hasText: /^older message 1\b/ }).count(),
      0,
      'only the newest page at first',
    );
    for (
      let i = 0;
      i < 10 && (await A.page.locator('.msg .text', { hasText: /^older message 1$/ }).count()) === 0;
      i++
    ) {
      await aLog.evaluate((el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event('scroll'));
      });
      await A.page.waitForTimeout(200);
    }
    await A.page.locator('.msg .text', { hasText: /^older message 1$/ }).waitFor();
    await A.page.locator('.hint', { hasText: 'Beginning of the conversation' }).waitFor();
    assert.equal(await A.page.locator('.msg .text').first().getAttribute('dir'), 'auto');

    // Bob sees Alice online in his list.
    const bRowForA = B.page.locator(`.row[data-peer="${aJid}"]`);
    await bRowForA.locator('.dot-online').waitFor();

    // Alice types: Bob's list shows "typing…"; she sends: Bob gets an unread badge.
    const aInput = A.page.getByLabel(/^Message to /);
    await aInput.click();
    await aInput.pressSequentially('Hello Bob, ');
    await bRowForA.locator('em', { hasText: 'typing…' }).waitFor();
    await aInput.pressSequentially('how are you? مرحبا');
    await aInput.press('Enter');
    const aMsg = A.page.locator('.msg-out', { hasText: 'Hello Bob' });
    await aMsg.waitFor();
    await A.page.locator('.msg-out[data-status="delivered"]', { hasText: 'Hello Bob' }).waitFor();
    await bRowForA.locator('.badge', { hasText: '1' }).waitFor();
    assert.match((await bRowForA.getAttribute('aria-label')) ?? '', /1 unread/);
    await B.page.locator('[role=tab] .badge', { hasText: '1' }).waitFor();
    await shot(B.page, 'contacts-unread');

    // Bob opens the dialogue: the message is read there, Alice's ticks turn to "read".
    await bRowForA.click();
    await B.page.locator('.msg-in', { hasText: 'Hello Bob' }).waitFor();
    await A.page.locator('.msg-out[data-status="displayed"]', { hasText: 'Hello Bob' }).waitFor();
    assert.equal(await B.page.locator('[role=tab] .badge').count(), 0, 'badge gone once read');

    // Bob types back: Alice's dialogue header says so.
    const bInput = B.page.getByLabel(/^Message to /);
    await bInput.pressSequentially('Fine, ');
    await A.page.locator('.title .sub', { hasText: 'is typing…' }).waitFor();
    await bInput.pressSequentially('thanks!');
    await bInput.press('Enter');
    await A.page.locator('.msg-in', { hasText: 'Fine, thanks!' }).waitFor();
    await B.page.locator('.msg-out[data-status="displayed"]', { hasText: 'Fine, thanks!' }).waitFor();
    await aLog.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await shot(A.page, 'dialogue-read-ticks');

    // Alice stars Bob: he is listed under Favorites (the roster group).
    await A.page.getByRole('button', { name: 'Add to favorites' }).click();
    await A.page.getByRole('button', { name: 'Remove from favorites' }).waitFor();
    await A.page.getByRole('button', { name: 'Favorites', exact: true }).click();
    await A.page.locator(`.row[data-peer="${bJid}"]`).waitFor();
    await A.page.getByRole('button', { name: 'All', exact: true }).click();

    // Bob's event stream drops (network gone); Alice writes meanwhile; it arrives once the stream resumes.
    await B.ctx.setOffline(true);
    await B.page.locator('.conn-reconnecting').waitFor({ timeout: 15_000 });
    await aInput.fill('sent while you were away');
    await aInput.press('Enter');
    await A.page.locator('.msg-out[data-id]', { hasText: 'sent while you were away' }).waitFor();
    await B.ctx.setOffline(false);
    await B.page.locator('.msg-in', { hasText: 'sent while you were away' }).waitFor({ timeout: 30_000 });
    await B.page.locator('.conn-online').waitFor();
    assert.equal(
      await B.page.locator('.msg-in', { hasText: 'sent while you were away' }).count(),
      1,
      'not doubled',
    );

    // A room: Alice creates it, Bob joins from the list, they talk.
    const room = uniqueUser('room');
    await A.page.getByRole('tab', { name: 'Rooms' }).click();
    await A.page.getByLabel('Room to join or create').fill(room);
    await A.page.getByRole('button', { name: 'Join', exact: true }).click();
    await A.page.locator('.dialogue h1', { hasText: room }).waitFor();
    await B.page.getByRole('tab', { name: 'Rooms' }).click();
    await B.page.getByLabel('Room to join or create').fill(room);
    await B.page.getByRole('button', { name: 'Join', exact: true }).click();
    await B.page.locator('.dialogue h1', { hasText: room }).waitFor();
    await A.page.getByLabel(/^Message to room/).fill('Welcome to the room');
    await A.page.getByLabel(/^Message to room/).press('Enter');
    await B.page.locator('.msg-in', { hasText: 'Welcome to the room' }).waitFor();
    await B.page.getByLabel(/^Message to room/).fill('Glad to be here');
    await B.page.getByLabel(/^Message to room/).press('Enter');
    await A.page.locator('.msg-in', { hasText: 'Glad to be here' }).waitFor();
    await A.page.locator('.msg-in .nick', { hasText: bName }).first().waitFor();
    await shot(A.page, 'room');

    // Bob calls Alice (XEP-0353 signalling): a banner rings in Alice's client; she accepts.
    const started = await call<{ callId: string }>(`${gw.url}/restapi/v1/chat/${b.streamId}/calls/${aName}`, {
      auth: bearer(b.token),
      json: { audioOnly: true },
    });
    assert.equal(started.status, 201, started.text);
    const banner = A.page.getByRole('alertdialog', { name: /^Incoming call from / });
    await banner.waitFor();
    await shot(A.page, 'call-banner');
    await banner.getByRole('button', { name: 'Accept' }).click();
    await banner.waitFor({ state: 'detached' });
    // The caller's side learns it when the accept reaches Bob's XMPP session: poll his call history briefly.
    let answered: string | null | undefined;
    for (let i = 0; i < 50 && !answered; i++) {
      const history = await call<{ calls: { callId: string; answeredAt: string | null }[] }>(
        `${gw.url}/restapi/v1/chat/${bName}/calls`,
        { auth: gw.secret },
      );
      answered = history.body.calls.find((c) => c.callId === started.body.callId)?.answeredAt;
      if (!answered) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(answered, 'the call was accepted');
    assert.equal(await A.page.locator('.error').count(), 0);

    // Alice blocks Bob from his dialogue: he moves to the Blocked list; she unblocks him there.
    await A.page.getByRole('tab', { name: /^Chats/ }).click();
    await A.page.locator(`.row[data-peer="${bJid}"]`).click();
    await A.page.getByRole('button', { name: 'Block', exact: true }).click();
    await A.page.getByRole('button', { name: 'Unblock', exact: true }).waitFor();
    assert.equal(await A.page.locator(`.row[data-peer="${bJid}"]`).count(), 0, 'not under All');
    await A.page.getByRole('button', { name: 'Blocked', exact: true }).click();
    await A.page.locator(`.row[data-peer="${bJid}"]`).waitFor();
    await A.page.getByRole('button', { name: 'Unblock', exact: true }).click();
    await A.page.getByRole('button', { name: 'Block', exact: true }).waitFor();
    assert.equal(await A.page.locator('.error').count(), 0);
  });

  it('is keyboard operable and fits a phone', async () => {
    const [aName, bName] = [uniqueUser('alice'), uniqueUser('bob')];
    const [a, b] = [await login(aName), await login(bName)];
    await call(`${gw.url}/restapi/v1/chat/${b.streamId}/messages/${aName}`, {
      auth: bearer(b.token),
      text: 'Are you there?',
    });
    const { page } = await newPage({ width: 390, height: 740 });
    await page.goto(chatUrl(a));
    await page.locator('.conn-online').waitFor();
    await page.locator(`.row[data-peer="${b.jid}"] .badge`).waitFor();
    await shot(page, 'phone-list');

    // Focus order: sound toggle, the two tabs, search, then the dialogues.
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      order.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          return el.getAttribute('aria-label') ?? el.textContent ?? el.tagName;
        }),
      );
    }
    assert.match(order[0]!, /^Sound/);
    assert.match(order[1]!, /^Chats/);
    assert.equal(order[2], 'Rooms');
    assert.equal(order[3], 'Search contacts and users');
    assert.deepEqual(order.slice(4, 7), ['All', 'Favorites', 'Blocked']);
    assert.match(order[7]!, new RegExp(`^${bName}, (online|offline), 1 unread`));
    await page.keyboard.press('Enter'); // opens the focused dialogue; on a phone it replaces the list
    await page.locator('.msg-in', { hasText: 'Are you there?' }).waitFor();
    assert.equal(await page.locator('.sidebar').isVisible(), false);
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute('aria-label')),
      `Message to ${bName}`,
    );
    await page.keyboard.type('Yes!');
    await page.keyboard.press('Enter');
    await page.locator('.msg-out', { hasText: 'Yes!' }).waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    assert.equal(overflow, 0, 'no horizontal scrolling at phone width');
    await shot(page, 'phone-dialogue');
    await page.getByRole('button', { name: 'Back to the list' }).click();
    await page.locator('.sidebar').waitFor();

    // The site logs the user off: the client says so instead of retrying forever.
    await call(`${gw.url}/restapi/v1/chat/${a.streamId}/logoff`, { method: 'POST', auth: bearer(a.token) });
    await page.locator('.conn-offline', { hasText: 'Signed out' }).waitFor();
  });

  it('a visitor asks an expert queue and reaches an agent, who works from the console', async () => {
    const agentName = uniqueUser('agent');
    const agent = await login(agentName);
    const wg = uniqueUser('wg');
    const created = await call(`${gw.url}/restapi/v1/ask/admin`, {
      auth: gw.secret,
      json: {
        name: wg,
        description: 'Help desk',
        members: agentName,
        welcomeText: 'Welcome to the help desk',
      },
    });
    assert.equal(created.status, 201, created.text);

    // The agent goes on duty in the Queues tab.
    const A = await newPage();
    await A.page.goto(chatUrl(agent));
    await A.page.locator('.conn-online').waitFor();
    await A.page.getByRole('tab', { name: 'Queues' }).click();
    await A.page.getByRole('button', { name: 'Go on duty' }).click();
    await A.page.getByRole('button', { name: 'Go off duty' }).waitFor();

    // A visitor, no account: the ask form, then the queue.
    const V = await newPage({ width: 420, height: 640 });
    const visitorUrls: string[] = [];
    V.page.on('request', (r) => visitorUrls.push(r.url()));
    await V.page.goto(`${gw.url}/chat/#ask=${wg}`);
    await V.page.getByLabel('Your name').fill('jane');
    await V.page.getByLabel('E-mail').fill('jane@example.org');
    await V.page.getByLabel('Your question').fill('How do I reset my password?');
    await V.page.getByRole('button', { name: 'Ask' }).click();

    // The offer rings in the console; the agent accepts and lands in the assistance room.
    const offer = A.page.getByRole('alertdialog', { name: `Offer from ${wg}` });
    await offer.waitFor();
    await shot(A.page, 'agent-offer');

    // A call rings at the same time: the two banners stack, at desktop and at phone width, above the app.
    const caller = await login(uniqueUser('carol'));
    const ringing = await call(`${gw.url}/restapi/v1/chat/${caller.streamId}/calls/${agentName}`, {
      auth: bearer(caller.token),
      json: {},
    });
    assert.equal(ringing.status, 201, ringing.text);
    const callBanner = A.page.getByRole('alertdialog', { name: /^Incoming call from / });
    await callBanner.waitFor();
    await assertStacked(A.page);
    await A.page.setViewportSize({ width: 390, height: 740 });
    await assertStacked(A.page);
    assert.equal(
      await A.page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      ),
      0,
      'no horizontal scrolling',
    );
    await shot(A.page, 'phone-offer-and-call');
    await A.page.setViewportSize({ width: 1000, height: 640 });
    await callBanner.getByRole('button', { name: 'Decline' }).click();
    await callBanner.waitFor({ state: 'detached' });

    await offer.getByRole('button', { name: 'Accept' }).click();
    await A.page.locator('.dialogue h1', { hasText: wg }).waitFor();
    await A.page.locator('.msg', { hasText: 'How do I reset my password?' }).waitFor();

    await V.page.locator('.sub', { hasText: 'An expert is with you.' }).waitFor();
    await A.page.getByLabel(/^Message to room/).fill('Use the "forgot password" link');
    await A.page.getByLabel(/^Message to room/).press('Enter');
    await V.page.locator('.msg-in', { hasText: 'forgot password' }).waitFor();
    await V.page.getByLabel('Message to the expert').fill('Thanks, that worked!');
    await V.page.getByLabel('Message to the expert').press('Enter');
    await V.page.locator('.msg-out', { hasText: 'Thanks, that worked!' }).waitFor();
    await A.page.locator('.msg-in', { hasText: 'Thanks, that worked!' }).waitFor();
    await shot(V.page, 'visitor-chat');
    await shot(A.page, 'agent-room');
    // The visitor token lives as long as the request: the page opens its stream with a one-time ticket instead.
    assert.ok(
      visitorUrls.some((u) => /\/restapi\/v1\/ask\/jane\/events\?.*\bticket=/.test(u)),
      visitorUrls.join('\n'),
    );
    assert.deepEqual(
      visitorUrls.filter((u) => /[?&]token=/.test(u)),
      [],
      'no visitor token in a URL',
    );
  });

  it('sends files: an image in a dialogue (live, own copy, full size, history) and a refused one, a document in a room', async () => {
    const [aName, bName] = [uniqueUser('alice'), uniqueUser('bob')];
    const [a, b] = [await login(aName), await login(bName)];
    await befriend(a, b, aName, bName);
    const A = await newPage();
    const B = await newPage();
    await A.page.goto(chatUrl(a, bName));
    await B.page.goto(chatUrl(b, aName));
    await A.page.locator('.conn-online').waitFor();
    await B.page.locator('.conn-online').waitFor();

    // Alice picks a picture (the hidden file input behind "Attach files"): it uploads at once, then goes with her text.
    const picture = await samplePng(480, 320);
    await A.page.getByRole('button', { name: 'Attach files' }).waitFor();
    await A.page
      .locator('.dialogue input[type=file]')
      .setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: picture });
    await A.page.locator('.upload-ready', { hasText: 'sunset.png' }).waitFor();
    const aInput = A.page.getByLabel(`Message to ${bName}`);
    await aInput.fill('The view from here');
    await aInput.press('Enter');
    await A.page.locator('.upload').waitFor({ state: 'detached' });

    // Both see it as an image that loaded: the server's thumbnail (at most 320 px wide), not the 480 px file.
    const inBob = '.msg-in .file-image img';
    assert.equal(await imageWidth(B.page, inBob), 320);
    assert.equal(await imageWidth(A.page, '.msg-out[data-id] .file-image img'), 320, "the sender's own copy");
    await B.page.locator('.msg-in .text', { hasText: 'The view from here' }).waitFor();
    assert.match(
      (await B.page.locator('.msg-in .file-image').getAttribute('aria-label')) ?? '',
      /^sunset\.png, [\d.]+ KB: open in a new tab$/,
    );
    await shot(B.page, 'dialogue-attachment');

    // A click opens the whole file in a new tab.
    const [tab] = await Promise.all([
      B.ctx.waitForEvent('page'),
      B.page.locator('.msg-in .file-image').click(),
    ]);
    await tab.waitForURL(/^blob:/);
    await tab.waitForFunction(() => (document.querySelector('img')?.naturalWidth ?? 0) === 480);
    await tab.close();

    // After a reload the picture comes back with the history.
    await B.page.reload();
    await B.page.locator('.conn-online').waitFor();
    await B.page.locator(`.row[data-peer="${a.jid}"]`).click();
    assert.equal(await imageWidth(B.page, inBob), 320);
    await B.page.locator('.msg-in .text', { hasText: 'The view from here' }).waitFor();

    // An executable named x.png: the server detects the content and refuses it; its reason is shown.
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120, 0)]);
    await A.page
      .locator('.dialogue input[type=file]')
      .setInputFiles({ name: 'x.png', mimeType: 'image/png', buffer: elf });
    const refused = A.page.locator('.upload-failed', { hasText: 'x.png' });
    await refused
      .getByRole('alert')
      .filter({ hasText: /^Not uploaded: files of type .+ are not accepted here$/ })
      .waitFor();
    await refused.getByRole('button', { name: 'Dismiss the error about x.png' }).click();
    await refused.waitFor({ state: 'detached' });

    // A room: Alice posts a document alone (no text); Bob sees its name and size and saves it, also from history.
    const room = uniqueUser('room');
    for (const { page } of [A, B]) {
      await page.getByRole('tab', { name: 'Rooms' }).click();
      await page.getByLabel('Room to join or create').fill(room);
      await page.getByRole('button', { name: 'Join', exact: true }).click();
      await page.locator('.dialogue h1', { hasText: room }).waitFor();
    }
    const agenda = Buffer.from('Agenda: ship the web client\n');
    await A.page
      .locator('.dialogue input[type=file]')
      .setInputFiles({ name: 'agenda.txt', mimeType: 'text/plain', buffer: agenda });
    await A.page.locator('.upload-ready', { hasText: 'agenda.txt' }).waitFor();
    await A.page.getByRole('button', { name: 'Send' }).click();
    const saveAgenda = async () => {
      const link = B.page.getByRole('link', { name: `Download agenda.txt, ${agenda.length} B` });
      const [download] = await Promise.all([B.page.waitForEvent('download'), link.click()]);
      assert.equal(download.suggestedFilename(), 'agenda.txt');
      const chunks: Buffer[] = [];
      for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
      assert.ok(Buffer.concat(chunks).equals(agenda), 'the file as uploaded');
    };
    await saveAgenda();
    assert.equal(
      await B.page.locator('.msg-in .text').count(),
      0,
      'no text: the URL that stands in for native clients is not shown',
    );
    await B.page.reload();
    await B.page.locator('.conn-online').waitFor();
    await B.page.getByRole('tab', { name: 'Rooms' }).click();
    await B.page.locator(`.row[data-room^="${room}@"]`).click();
    await saveAgenda();
    assert.equal(await A.page.locator('.error').count(), 0);
    assert.equal(await B.page.locator('.error').count(), 0);
  });

  it('embeds in another site with one script tag: Parley.init, openDialog, unreadCount', async () => {
    const [aName, bName] = [uniqueUser('alice'), uniqueUser('bob')];
    const [a, b] = [await login(aName), await login(bName)];
    // The embedding site: another origin, whose server logged Alice in and hands the session to its page.
    const site = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="en"><head><title>Shop</title></head><body style="font-family:sans-serif">
        <h1>Example shop</h1><p>Questions? Chat with us.</p>
        <script src="${gw.url}/chat/embed.js"></script>
        <script>Parley.init({ url: ${JSON.stringify(gw.url)}, streamId: ${JSON.stringify(a.streamId)}, token: ${JSON.stringify(a.token)}, open: false,
          onSessionEnded: function (reason) { window.chatEnded = reason; } });</script>
      </body></html>`);
    });
    await new Promise<void>((resolve) => site.listen(0, 'localhost', resolve));
    try {
      const { page } = await newPage();
      await page.goto(`http://localhost:${(site.address() as AddressInfo).port}/`);
      const launcher = page.getByRole('button', { name: /^Chat/ });
      await launcher.waitFor();
      assert.equal(await launcher.getAttribute('aria-expanded'), 'false');
      const frame = page.frameLocator('iframe[title="Chat"]');
      await frame.locator('.conn-online').waitFor({ state: 'attached' }); // the panel is closed (open: false)

      await call(`${gw.url}/restapi/v1/chat/${b.streamId}/messages/${aName}`, {
        auth: bearer(b.token),
        text: 'Hi from the shop desk',
      });
      await page.waitForFunction(
        () => (window as unknown as { Parley: { unreadCount(): number } }).Parley.unreadCount() === 1,
      );
      assert.equal(await launcher.getAttribute('aria-label'), 'Chat, 1 unread');

      await page.evaluate(
        (user) => (window as unknown as { Parley: { openDialog(u: string): void } }).Parley.openDialog(user),
        bName,
      );
      await frame.locator('.msg-in', { hasText: 'Hi from the shop desk' }).waitFor();
      await page.waitForFunction(
        () => (window as unknown as { Parley: { unreadCount(): number } }).Parley.unreadCount() === 0,
      );
      assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
      await shot(page, 'embed');

      // The session ends (here: logged off by the site's server): the page is told, to log in again.
      await call(`${gw.url}/restapi/v1/chat/${a.streamId}/logoff`, { method: 'POST', auth: bearer(a.token) });
      await page.waitForFunction(() => (window as unknown as { chatEnded?: string }).chatEnded === 'logoff');
    } finally {
      site.close();
    }
  });
});

/** A real PNG made by sharp: an evening sky (blue to orange) with a sun, so the screenshot shows something. */
function samplePng(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  const sun = { x: width * 0.7, y: height * 0.6, r: height * 0.15 };
  for (let y = 0; y < height; y++) {
    const t = y / height;
    for (let x = 0; x < width; x++) {
      const inSun = (x - sun.x) ** 2 + (y - sun.y) ** 2 < sun.r ** 2;
      raw.set(
        inSun
          ? [255, 236, 150]
          : [Math.round(40 + 210 * t), Math.round(90 + 70 * t), Math.round(200 - 120 * t)],
        (y * width + x) * 3,
      );
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** The natural width of an image once the browser has decoded it (0 would mean it never loaded). */
async function imageWidth(page: Page, selector: string): Promise<number> {
  const handle = await page.waitForFunction((sel) => {
    const img = document.querySelector<HTMLImageElement>(sel);
    return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : 0;
  }, selector);
  return handle.jsonValue();
}

/** Banners that ring at once sit one below the other, and above the app rather than over it. */
async function assertStacked(page: Page): Promise<void> {
  const boxes = await page.locator('.banner').evaluateAll((els) =>
    els.map((el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom };
    }),
  );
  assert.ok(boxes.length >= 2, `two banners, got ${boxes.length}`);
  for (let i = 1; i < boxes.length; i++)
    assert.ok(
      boxes[i]!.top >= boxes[i - 1]!.bottom - 0.5,
      `banner ${i} overlaps the one above: ${JSON.stringify(boxes)}`,
    );
  const app = await page
    .locator('.app > :not(.banners):not([hidden])')
    .evaluateAll((els) =>
      els.filter((el) => getComputedStyle(el).display !== 'none').map((el) => el.getBoundingClientRect().top),
    );
  for (const top of app)
    assert.ok(top >= boxes[boxes.length - 1]!.bottom - 0.5, 'the app starts below the banners');
}
