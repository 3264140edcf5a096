import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { startProsody, type RunningProsody } from '../../tools/servers/prosody.js';
import { freePorts } from '../../tools/servers/freePort.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { CutProxy } from '../helpers/cutProxy.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { rig } from '../rig/rig.js';
import { registerUser, uniqueUser, type TestUser } from '../rig/users.js';
import { siteKey } from '../../src/sync/signing.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Attachment = { url: string; name: string; size: number | null; type: string };
type Status = {
  role: string;
  outbox: number;
  undelivered: number;
  lastError: string | null;
  settingsVersion: number;
};

const SITE_DOMAIN = 'site.test';

/**
 * Two deployments on loopback, each with its own Prosody and its own database on the rig's PostgreSQL: the
 * host (the rig's Prosody, `localhost`) and a site (a second Prosody, `site.test`) that calls home through a
 * proxy we cut. Messages and files written on both sides while the link is down arrive once it is back,
 * once each and in order, and so do the ones whose delivery answer was lost; the host's settings reach the site.
 */
describe('site sync: two deployments over an intermittent link (real Prosody ×2 + PostgreSQL)', function () {
  this.timeout(90_000);
  const key = randomBytes(32).toString('hex');
  let siteProsody: RunningProsody;
  let host: TestGateway;
  let site: TestGateway;
  let link: CutProxy;
  const streams: SseClient[] = [];

  before(async () => {
    siteProsody = await startProsody({
      dir: await mkdtemp(join(rig.tmp, 'prosody-site-')),
      domain: SITE_DOMAIN,
      componentSecret: randomBytes(12).toString('hex'),
      adminPassword: randomBytes(12).toString('hex'),
      scramIterations: 4096,
      hibernationSeconds: 5,
    });
    const [hostPort, sitePort] = await freePorts(2);
    host = await startGateway({
      PARLEY_PORT: String(hostPort),
      PARLEY_PUBLIC_URL: `http://127.0.0.1:${hostPort}`,
      PARLEY_SYNC_ROLE: 'host',
      PARLEY_SYNC_KEY: key,
      PARLEY_SYNC_SITES: SITE_DOMAIN,
      PARLEY_SYNC_INTERVAL_SECONDS: '0.2',
    });
    link = new CutProxy(hostPort!);
    const linkPort = await link.listen();
    site = await startGateway({
      PARLEY_PORT: String(sitePort),
      PARLEY_PUBLIC_URL: `http://127.0.0.1:${sitePort}`,
      XMPP_DOMAIN: SITE_DOMAIN,
      XMPP_SERVICE: siteProsody.service,
      XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${siteProsody.componentPort}`,
      XMPP_ADMIN_JID: siteProsody.adminJid,
      XMPP_ADMIN_PASSWORD: siteProsody.adminPassword,
      XMPP_COMPONENT_SECRET: siteProsody.componentSecret,
      REDIS_URL: '', // a deployment of its own: not on the host's event bus
      PARLEY_SYNC_ROLE: 'site',
      PARLEY_SYNC_KEY: siteKey(key, SITE_DOMAIN), // its own key, derived from the host's
      PARLEY_SYNC_HOST_URL: `http://127.0.0.1:${linkPort}`,
      PARLEY_SYNC_INTERVAL_SECONDS: '0.2',
    });
  });

  after(async () => {
    for (const s of streams) s.close();
    await site?.stop();
    await link?.close();
    await host?.stop();
    await siteProsody?.stop();
  });

  const login = async (gw: TestGateway, u: TestUser): Promise<Login> => {
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return r.body;
  };
  const open = async (l: Login): Promise<SseClient> => {
    const s = new SseClient(withToken(l.events, l.token), { names: ['chatapi.chat'] });
    streams.push(s);
    await s.opened;
    return s;
  };
  const send = async (gw: TestGateway, l: Login, to: string, json: Record<string, unknown>) => {
    const r = await call(`${gw.url}/restapi/v1/chat/${l.streamId}/messages/${encodeURIComponent(to)}`, {
      auth: bearer(l.token),
      json,
    });
    assert.equal(r.status, 201, r.text);
  };
  const upload = async (gw: TestGateway, l: Login, name: string, text: string) => {
    const r = await call<{ id: string; url: string }>(
      `${gw.url}/restapi/v1/chat/${l.streamId}/files?name=${encodeURIComponent(name)}`,
      { auth: bearer(l.token), text },
    );
    assert.equal(r.status, 201, r.text);
    return r.body;
  };
  const status = async (gw: TestGateway): Promise<Status> => {
    const r = await call<Status>(`${gw.url}/restapi/v1/sync/status`, { auth: gw.secret });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  /** Polls the site's and host's state (no timing: it waits for the condition, the suite timeout bounds it). */
  const until = async (what: string, ok: () => Promise<boolean>): Promise<void> => {
    for (let i = 0; ; i++) {
      if (await ok()) return;
      if (i > 600) assert.fail(`never: ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const incoming = (s: SseClient): ReceivedEvent[] =>
    s.events.filter((e) => e.name === 'chatapi.chat' && e.data.direction === 'in');
  const bodies = (s: SseClient): string[] => incoming(s).map((e) => String(e.data.body));
  const download = async (url: string, token: string): Promise<string> => {
    const res = await fetch(url, { headers: { Authorization: bearer(token) } });
    assert.equal(res.status, 200, url);
    return res.text();
  };

  it('carries chats and files both ways across a cut and lost answers, each once and in order, and the host settings', async () => {
    // alice lives on the site, bob on the host; each writes to the other's address here (XEP-0106).
    const bob = await registerUser('bob');
    const alice = { username: uniqueUser('alice'), password: randomBytes(9).toString('base64url') };
    await siteProsody.register(alice.username, alice.password);
    const aliceJid = `${alice.username}@${SITE_DOMAIN}`;
    const bobHere = `${bob.username}\\40${rig.xmpp.domain}@sync.${SITE_DOMAIN}`;
    const aliceHere = `${alice.username}\\40${SITE_DOMAIN}@sync.${rig.xmpp.domain}`;
    const [la, lb] = [await login(site, { ...alice, jid: aliceJid }), await login(host, bob)];
    const [aliceTab, bobTab] = [await open(la), await open(lb)];

    // The link up: a message each way.
    await send(site, la, bobHere, { body: 'hello from the site' });
    const first = await bobTab.next(
      (e) => e.data.body === 'hello from the site' && e.data.direction === 'in',
      20_000,
    );
    assert.equal(String(first.data.from).split('/')[0], aliceHere, 'the sender, as the host addresses her');
    await send(host, lb, aliceHere, { body: 'hello from the host' });
    await aliceTab.next((e) => e.data.body === 'hello from the host' && e.data.direction === 'in', 20_000);

    await until('the host knows the site has its message', async () => (await status(host)).outbox === 0);

    // The link down: both sides write; the host changes the sites' upload limits.
    link.set('down');
    await until('the site notices the link is down', async () => (await status(site)).lastError !== null);
    for (let i = 1; i <= 3; i++) await send(site, la, bobHere, { body: `site ${i}` });
    for (let i = 1; i <= 3; i++) await send(host, lb, aliceHere, { body: `host ${i}` });
    const put = await call<{ version: number }>(`${host.url}/restapi/v1/sync/settings`, {
      method: 'PUT',
      auth: host.secret,
      json: { uploads: { maxBytes: 4096, allowedTypes: ['text/plain', 'image/*'] } },
    });
    assert.equal(put.status, 200, put.text);
    await until(
      'both outboxes hold what was written',
      async () => (await status(site)).outbox === 3 && (await status(host)).outbox === 3,
    );
    assert.deepEqual(bodies(bobTab), ['hello from the site'], 'nothing crossed the cut link');
    assert.deepEqual(bodies(aliceTab), ['hello from the host']);

    // Half a link: the host gets every call but the site never gets an answer. The host delivers what the
    // site pushed; the site, not knowing, will send it all again.
    link.set('loseAnswers');
    await until('bob has the site’s messages', async () => bodies(bobTab).includes('site 3'));
    assert.equal((await status(site)).outbox, 3, 'the site still thinks its messages are unsent');
    assert.deepEqual(bodies(aliceTab), ['hello from the host'], 'no answer reached the site');

    // Down again, and now with a file each way.
    link.set('down');
    const siteFile = await upload(site, la, 'field-notes.txt', 'notes written offline at the site\n');
    const hostFile = await upload(host, lb, 'reply.txt', 'the answer from the central host\n');
    await send(site, la, bobHere, { body: 'site file', attachments: [siteFile.id] });
    await send(host, lb, aliceHere, { body: 'host file', attachments: [hostFile.id] });

    // The link back: everything converges.
    link.set('up');
    await until('the site’s outbox is empty', async () => (await status(site)).outbox === 0);
    await send(site, la, bobHere, { body: 'site last' });
    await send(host, lb, aliceHere, { body: 'host last' });
    await bobTab.next((e) => e.data.body === 'site last', 20_000);
    await aliceTab.next((e) => e.data.body === 'host last', 20_000);

    // Once each, in the order written (a later message behind the earlier ones proves nothing is still coming).
    assert.deepEqual(bodies(bobTab), [
      'hello from the site',
      'site 1',
      'site 2',
      'site 3',
      'site file',
      'site last',
    ]);
    assert.deepEqual(bodies(aliceTab), [
      'hello from the host',
      'host 1',
      'host 2',
      'host 3',
      'host file',
      'host last',
    ]);
    assert.ok(link.answersLost > 0, 'answers were really lost');

    // Files: stored on the receiving side, served from there to the recipient.
    const atBob = incoming(bobTab).find((e) => e.data.body !== 'site file' && e.data.attachments)
      ? assert.fail('only the file message carries a file')
      : (incoming(bobTab).find((e) => e.data.body === 'site file')!.data.attachments as Attachment[]);
    assert.equal(atBob.length, 1);
    assert.ok(atBob[0]!.url.startsWith(`${host.url}/files/`), `served by the host: ${atBob[0]!.url}`);
    assert.equal(atBob[0]!.name, 'field-notes.txt');
    assert.equal(await download(atBob[0]!.url, lb.token), 'notes written offline at the site\n');
    const atAlice = incoming(aliceTab).find((e) => e.data.body === 'host file')!.data
      .attachments as Attachment[];
    assert.ok(atAlice[0]!.url.startsWith(`${site.url}/files/`), `served by the site: ${atAlice[0]!.url}`);
    assert.equal(await download(atAlice[0]!.url, la.token), 'the answer from the central host\n');

    // Settings: the host's version reached the site and holds there.
    await until(
      'the site applied the host settings',
      async () => (await status(site)).settingsVersion === put.body.version,
    );
    const applied = await call<{ version: number; settings: unknown }>(
      `${site.url}/restapi/v1/sync/settings`,
      {
        auth: site.secret,
      },
    );
    assert.deepEqual(applied.body, {
      version: put.body.version,
      settings: { uploads: { maxBytes: 4096, allowedTypes: ['text/plain', 'image/*'] } },
    });
    const tooBig = await call(`${site.url}/restapi/v1/chat/${la.streamId}/files?name=big.txt`, {
      auth: bearer(la.token),
      text: 'x'.repeat(5000),
    });
    assert.equal(tooBig.status, 413, 'the site enforces the host’s upload limit');
    // A file above the site's new limit does not hold up the chat: it arrives as a link to the host.
    const big = await upload(host, lb, 'big.txt', 'y'.repeat(5000));
    await send(host, lb, aliceHere, { body: 'host big file', attachments: [big.id] });
    await send(host, lb, aliceHere, { body: 'host after big' });
    await aliceTab.next((e) => e.data.body === 'host after big', 20_000);
    const asLink = incoming(aliceTab).find((e) => e.data.body === 'host big file')!.data
      .attachments as Attachment[];
    assert.deepEqual(
      asLink.map((a) => a.url),
      [big.url],
      'the site refused to store it; the message still came, with the host’s link',
    );

    // The host forgets what the site confirmed it holds (the next call home confirms the last one).
    await until('both sides have nothing left to send or deliver', async () => {
      const [s, h] = [await status(site), await status(host)];
      return [s.outbox, s.undelivered, h.outbox, h.undelivered].every((n) => n === 0);
    });
  });

  it('refuses unsigned and wrongly signed calls to the host', async () => {
    const unsigned = await call(`${host.url}/restapi/v1/sync/peer/settings`);
    assert.equal(unsigned.status, 401);
    const forged = await call(`${host.url}/restapi/v1/sync/peer/messages?after=0`, {
      headers: {
        'x-parley-sync-site': SITE_DOMAIN,
        'x-parley-sync-auth': `${Math.floor(Date.now() / 1000)}.00`,
      },
    });
    assert.equal(forged.status, 403);
    const notHost = await call(`${site.url}/restapi/v1/sync/peer/settings`);
    assert.equal(notHost.status, 501);
  });
});
