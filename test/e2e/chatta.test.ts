import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call } from '../helpers/http.js';
import { uniqueUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { CHROMIUM, SHOTS, CHROMIUM_ARGS as ARGS, DESKTOP, PHONE } from '../helpers/browser.js';
import { WEB_DIST } from '../../src/http/routes/webClient.js';

/**
 * The Chatta flow (care homes) in headless Chromium — Debian's `chromium` through playwright-core — against a
 * real Parley, Prosody and PostgreSQL: a carer (an admin of the organisation) sees residents come online live
 * in the People tab, starts a video call to one, the resident's client answers by itself after the countdown
 * (the seed's autoAccept/acceptAfter), and the carer ends the call; a resident may cancel the countdown and
 * decline instead. Then the same on phone-sized screens. Screens go to test/e2e/screenshots/latest/.
 */

/** The web client's store as main.tsx exposes it on window (for tests and debugging). */
type Store = { parleyStore: { calls: { countdowns: Map<string, unknown> } } };
type Login = { streamId: string; token: string; jid: string };
type CallRow = {
  callId: string;
  outcome: string | null;
  answeredAt: string | null;
  options: { autoAccept: boolean };
};

describe('the Chatta flow in the web client (headless Chromium)', function () {
  this.timeout(90_000);
  let gw: TestGateway;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
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
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  /** What the care home's server does: log the user in with the master secret (Parley creates the account). */
  const login = async (username: string): Promise<Login> => {
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${username}/login`, {
      method: 'POST',
      auth: gw.secret,
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return r.body;
  };
  const open = async (l: Login, viewport: { width: number; height: number }): Promise<Page> => {
    const ctx = await browser.newContext({ viewport });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (err) => console.error('page error:', err));
    await page.goto(`${gw.url}/chat/#streamId=${l.streamId}&token=${encodeURIComponent(l.token)}`);
    await page.locator('.conn-online').waitFor();
    return page;
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
  const noSideways = async (page: Page) =>
    assert.equal(
      await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
      0,
      'no horizontal scrolling',
    );

  /** An organisation with a carer (admin) and two residents, set up by the care home's server. */
  async function careHome() {
    const [id, carer, ann, bert] = [
      uniqueUser('home'),
      uniqueUser('sam'),
      uniqueUser('ann'),
      uniqueUser('bert'),
    ];
    const admin = (path: string, json: unknown) =>
      call(`${gw.url}/restapi/v1/admin/groups/${id}${path}`, { method: 'PUT', auth: gw.secret, json });
    assert.equal(
      (await admin('', { name: 'Sunrise', sites: [{ id: 'rose', name: 'Rose House' }] })).status,
      201,
    );
    const set = await admin('/members', {
      members: [
        { username: carer, name: 'Sam (carer)', role: 'admin' },
        { username: ann, name: 'Ann Smith', site: 'rose' },
        { username: bert, name: 'Bert Jones', site: 'rose' },
      ],
    });
    assert.equal(set.status, 200, set.text);
    return { id, carer, ann, bert };
  }

  /** The user's latest call once it has ended: the End button hides the banner before the answer arrives. */
  async function lastCall(l: Login, username: string): Promise<CallRow> {
    for (let i = 0; ; i++) {
      const r = await call<{ calls: CallRow[] }>(`${gw.url}/restapi/v1/chat/${username}/calls?limit=1`, {
        auth: bearer(l.token),
      });
      const latest = r.body.calls[0]!;
      if (latest.outcome !== null || i >= 50) return latest;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async function flow(viewport: { width: number; height: number }, tag: string): Promise<void> {
    const home = await careHome();
    const samLogin = await login(home.carer);
    const sam = await open(samLogin, viewport);

    // The carer's People tab lists the residents, offline; Ann logs in and comes online there, live.
    await sam.getByRole('tab', { name: 'People' }).click();
    const annRow = sam.locator('.member', { hasText: 'Ann Smith' });
    await annRow.waitFor();
    assert.equal(await annRow.getAttribute('data-online'), 'false');
    await sam.locator('.subhead', { hasText: '0 of 2 online' }).waitFor();
    const annLogin = await login(home.ann);
    const ann = await open(annLogin, viewport);
    await sam.locator('.member[data-online="true"]', { hasText: 'Ann Smith' }).waitFor();
    await sam.locator('.subhead', { hasText: '1 of 2 online' }).waitFor();
    assert.match((await annRow.textContent()) ?? '', /online · rose/);
    assert.ok(
      await sam.getByRole('button', { name: 'Video call Bert Jones' }).isDisabled(),
      'Bert is offline',
    );
    await noSideways(sam);
    await shot(sam, `chatta-${tag}-people`);

    // The carer calls Ann with a 3-second auto-answer. The answer to the carer's POST is held until her
    // screen shows Ann's ringing, as it can come late under load: it must not turn the call back.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await sam.route(
      (url) => /\/calls\/[^/]+$/.test(url.pathname),
      async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        const response = await route.fetch();
        await held;
        await route.fulfill({ response });
      },
      { times: 1 },
    );
    await sam.getByLabel('Auto-answer after seconds (0: off)').fill('3');
    await sam.getByRole('button', { name: 'Video call Ann Smith' }).click();
    const samCall = sam.getByRole('status', { name: 'Call with Ann Smith' });
    await samCall.waitFor();

    // Ann's screen rings with a visible countdown, then answers by itself: nobody clicks Accept.
    const ringing = ann.getByRole('alertdialog', { name: 'Incoming call from Sam (carer)' });
    await ringing.waitFor();
    await ringing.getByRole('timer').waitFor();
    assert.match(
      (await ringing.getByRole('timer').textContent()) ?? '',
      /Answering automatically in [1-3] s/,
    );
    const samRinging = sam.locator('.active-call', { hasText: "Ann Smith's screen is ringing" });
    await samRinging.waitFor();
    const answered = sam.waitForResponse(
      (r) => r.request().method() === 'POST' && /\/calls\/[^/]+$/.test(new URL(r.url()).pathname),
    );
    release();
    await answered;
    await sam.evaluate(() => new Promise((r) => setTimeout(r, 50)));
    assert.equal(await samRinging.count(), 1, 'the late answer left the call ringing');
    await noSideways(ann);
    assert.equal(
      await ann.locator(`.row[data-peer="${rig.xmpp.adminJid}"]`).count(),
      0,
      "Parley's watcher is no contact",
    );
    await shot(ann, `chatta-${tag}-countdown`);
    await ringing.waitFor({ state: 'detached', timeout: 15_000 });
    await ann.locator('.active-call', { hasText: 'In call with Sam (carer)' }).waitFor();
    await samCall.locator('.banner-text', { hasText: 'In call with Ann Smith' }).waitFor();
    await shot(sam, `chatta-${tag}-in-call`);

    // The carer ends it: both sides' call banners go; the call is recorded as answered and completed.
    await samCall.getByRole('button', { name: 'End call' }).click();
    await samCall.waitFor({ state: 'detached' });
    await ann.locator('.active-call').waitFor({ state: 'detached' });
    const done = await lastCall(samLogin, home.carer);
    assert.equal(done.outcome, 'completed');
    assert.ok(done.answeredAt);
    assert.equal(done.options.autoAccept, true);

    // Another call: Ann cancels the countdown, so the call keeps ringing until she declines it.
    await sam.getByRole('button', { name: 'Video call Ann Smith' }).click();
    await ringing.getByRole('timer').waitFor();
    await ringing.getByRole('button', { name: 'Cancel auto-answer' }).click();
    await ringing.getByRole('timer').waitFor({ state: 'detached' });
    // No countdown is left to answer it (the client's store, exposed for tests), and the banner still rings.
    assert.equal(await ann.evaluate(() => (window as unknown as Store).parleyStore.calls.countdowns.size), 0);
    assert.equal(await ringing.count(), 1, 'still ringing');
    await ringing.getByRole('button', { name: 'Decline' }).click();
    await sam.getByRole('status', { name: 'Call with Ann Smith' }).waitFor({ state: 'detached' });
    assert.equal((await lastCall(samLogin, home.carer)).outcome, 'declined');

    // Ann leaves: the carer sees her go offline.
    await call(`${gw.url}/restapi/v1/chat/${annLogin.streamId}/logoff`, {
      method: 'POST',
      auth: bearer(annLogin.token),
    });
    await sam.locator('.member[data-online="false"]', { hasText: 'Ann Smith' }).waitFor();
    assert.equal(await sam.locator('.error').count(), 0);
    assert.equal(await ann.locator('.error').count(), 0);
  }

  it('a carer sees residents come online, calls one, the resident answers after the countdown, the call ends', async () => {
    await flow(DESKTOP, 'desktop');
  });

  it('the same on phone-sized screens', async () => {
    await flow(PHONE, 'phone');
  });
});
