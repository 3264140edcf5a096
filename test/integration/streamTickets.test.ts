import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { basic, bearer, call } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Ticket = { ticket: string; expiresIn: number };
type Problem = { code: string; status: number };
type Login = { streamId: string; token: string; events: string };
type Asked = { id: string; userID: string; token: string; events: string };

const MONITOR = '/restapi/v1/admin/monitor';
/** The same ticket with the first character of its MAC changed (the last one carries ignored bits). */
const alter = (t: string) => {
  const i = t.lastIndexOf('.') + 1;
  return `${t.slice(0, i)}${t[i] === 'A' ? 'B' : 'A'}${t.slice(i + 1)}`;
};
/** Through the (trusted, loopback) proxy from the operations network; without it the test is an outsider. */
const INSIDE = { 'X-Forwarded-For': '10.1.2.3' };

/**
 * The visitor's stream of the expert queue and the admin monitor open with the same single-use, 60-second
 * tickets as the chat streams (an expired one is the unit tests': StreamTickets' clock), so no visitor
 * token, admin token or master secret has to travel in a URL.
 */
describe('stream tickets for the /ask visitor stream and the admin monitor', function () {
  this.timeout(60_000);
  let dbUrl: string;
  let shared: Record<string, string>;
  let a: TestGateway;
  let b: TestGateway | undefined;
  let admin: TestUser;
  const streams: SseClient[] = [];
  before(async () => {
    admin = await registerUser('mon');
    dbUrl = await freshDatabase();
    shared = {
      DATABASE_URL: dbUrl,
      PARLEY_SECRET: randomBytes(18).toString('base64url'),
      PARLEY_ADMIN_JIDS: admin.jid,
      PARLEY_OPS_ALLOW: '10.0.0.0/8',
    };
    a = await startGateway(shared);
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await dropDatabase(dbUrl);
  });

  const withTicket = (url: string, ticket: string) => {
    const u = new URL(url);
    u.searchParams.set('ticket', ticket);
    return u.toString();
  };
  const open = async (url: string, opts: ConstructorParameters<typeof SseClient>[1] = {}) => {
    const s = new SseClient(url, opts);
    streams.push(s);
    await s.opened;
    return s;
  };
  const refused = async (url: string, status: number, why: string, headers: Record<string, string> = {}) => {
    const r = await call<Problem>(url, { headers });
    assert.equal(r.status, status, `${why}: ${r.text}`);
    assert.equal(r.body.code, status === 401 ? 'BAD_CREDENTIALS' : 'FORBIDDEN', why);
  };
  const issued = (r: { status: number; text: string; headers: Headers; body: Ticket }): string => {
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.expiresIn, 60);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    return r.body.ticket;
  };

  const workgroup = async (): Promise<string> => {
    const name = `wg-${randomBytes(3).toString('hex')}`;
    const r = await call(`${a.url}/restapi/v1/ask/admin`, { auth: a.secret, json: { name, members: '' } });
    assert.equal(r.status, 201, r.text);
    return name;
  };
  const ask = async (wg: string, userID = `v${randomBytes(3).toString('hex')}`): Promise<Asked> => {
    const r = await call<Asked>(`${a.url}/restapi/v1/ask`, {
      json: { workgroup: wg, userID, emailAddress: `${userID}@example.org`, question: 'Insulin?' },
    });
    assert.equal(r.status, 202, r.text);
    return r.body;
  };
  const askTicket = (gw: TestGateway, userID: string, init: Parameters<typeof call>[1] = {}) =>
    call<Ticket>(`${gw.url}/restapi/v1/ask/${userID}/events/ticket`, { method: 'POST', ...init });
  const snapshotOf = (s: SseClient) => s.next((e) => e.name === 'chatapi.ask' && e.data.snapshot === true);
  const chatLogin = async (): Promise<Login> => {
    const u = await registerUser('tix');
    const r = await call<Login>(`${a.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status < 300, r.text);
    return r.body;
  };
  const monitorTicket = (gw: TestGateway, auth?: string, headers: Record<string, string> = {}) =>
    call<Ticket>(`${gw.url}${MONITOR}/ticket`, { method: 'POST', auth, headers });
  const monitorNames = { names: ['chatapi.monitor', 'chatapi.report'] };

  it("opens a visitor's own stream once; refuses it used, altered, for another visitor or for the visitor's earlier request", async () => {
    const wg = await workgroup();
    const [v1, v2] = [await ask(wg), await ask(wg)];
    assert.equal(
      (await askTicket(a, v1.userID)).status,
      401,
      'the stream takes credentials, so does its ticket',
    );
    assert.equal((await askTicket(a, v1.userID, { auth: bearer(v2.token) })).status, 403, 'another visitor');
    assert.equal(
      (await askTicket(a, v1.userID, { auth: basic(admin.username, admin.password) })).status,
      403,
      'visitor routes take the visitor token',
    );
    const inUrl = await call(`${a.url}/restapi/v1/ask/${v1.userID}/events/ticket?token=${v1.token}`, {
      method: 'POST',
    });
    assert.equal(inUrl.status, 401, 'the visitor token is read from the header only');

    const t = issued(await askTicket(a, v1.userID, { auth: bearer(v1.token) }));
    await refused(withTicket(v2.events, t), 401, "another visitor's stream");
    const s = await open(withTicket(v1.events, t));
    assert.equal((await snapshotOf(s)).data.requestId, v1.id);
    await refused(withTicket(v1.events, t), 401, 'a ticket works once');
    await refused(withTicket(v1.events, alter(t)), 401, 'altered');
    await refused(withTicket(v1.events, 'not-a-ticket'), 401, 'garbage');

    const m = issued(await askTicket(a, v1.userID, { auth: a.secret }));
    assert.equal(
      (await snapshotOf(await open(withTicket(v1.events, m)))).data.requestId,
      v1.id,
      'master secret',
    );

    // Bound to the request: once v1's request ended and the name asks again, v1's tickets open nothing.
    const late = issued(await askTicket(a, v1.userID, { auth: bearer(v1.token) }));
    assert.equal(
      (await call(`${a.url}/restapi/v1/ask/${v1.userID}`, { method: 'DELETE', auth: bearer(v1.token) }))
        .status,
      204,
    );
    const again = await ask(wg, v1.userID);
    await refused(withTicket(again.events, late), 401, "the name's earlier request");
    const fresh = issued(await askTicket(a, again.userID, { auth: bearer(again.token) }));
    assert.equal((await snapshotOf(await open(withTicket(again.events, fresh)))).data.requestId, again.id);

    // Pages written before tickets keep working.
    const u = new URL(v2.events);
    u.searchParams.set('token', v2.token);
    assert.equal((await snapshotOf(await open(u.toString()))).data.requestId, v2.id, '?token= still works');
  });

  it('opens the monitor with a ticket once: from the master secret anywhere, from an admin on the operations network only', async () => {
    assert.equal((await monitorTicket(a, undefined, INSIDE)).status, 401, 'no credentials');
    assert.equal(
      (await monitorTicket(a, basic(admin.username, admin.password))).status,
      403,
      'admin outside',
    );
    const bob = await registerUser('notadmin');
    assert.equal(
      (await monitorTicket(a, basic(bob.username, bob.password), INSIDE)).status,
      403,
      'not an admin',
    );

    const m = issued(await monitorTicket(a, a.secret));
    await open(withTicket(`${a.url}${MONITOR}?room=lobby&hasAttachments=false`, m), monitorNames);
    await refused(`${a.url}${MONITOR}?ticket=${m}`, 401, 'a ticket works once');
    await refused(`${a.url}${MONITOR}?ticket=${alter(m)}`, 401, 'altered');
    await refused(`${a.url}${MONITOR}?ticket=garbage`, 401, 'garbage');
    const secretInUrl = await call<Problem>(`${a.url}${MONITOR}?token=${encodeURIComponent(a.secret)}`, {
      headers: INSIDE,
    });
    assert.equal(secretInUrl.body.code, 'UNAUTHENTICATED', 'the master secret is never read from a URL');

    const byAdmin = issued(await monitorTicket(a, basic(admin.username, admin.password), INSIDE));
    await refused(
      `${a.url}${MONITOR}?ticket=${byAdmin}`,
      403,
      "an admin's ticket outside the operations network",
    );
    const login = await call<Login>(`${a.url}/restapi/v1/chat/${admin.username}/login`, {
      json: { password: admin.password },
    });
    const byToken = issued(await monitorTicket(a, bearer(login.body.token), INSIDE));
    await open(`${a.url}${MONITOR}?ticket=${byToken}&user=${admin.username}`, {
      ...monitorNames,
      headers: INSIDE,
    });
  });

  it('a ticket for one kind of stream opens no other', async () => {
    const v = await ask(await workgroup());
    const l = await chatLogin();
    const chat = issued(
      await call<Ticket>(`${a.url}/restapi/v1/chat/${l.streamId}/events/ticket`, {
        method: 'POST',
        auth: bearer(l.token),
      }),
    );
    const visitor = issued(await askTicket(a, v.userID, { auth: bearer(v.token) }));
    const monitor = issued(await monitorTicket(a, a.secret));
    await refused(withTicket(v.events, chat), 401, "a chat stream's ticket on the visitor stream");
    await refused(withTicket(v.events, monitor), 401, "the monitor's ticket on the visitor stream");
    await refused(withTicket(l.events, visitor), 401, "the visitor's ticket on a chat stream");
    await refused(withTicket(l.events, monitor), 401, "the monitor's ticket on a chat stream");
    await refused(`${a.url}${MONITOR}?ticket=${visitor}`, 401, "the visitor's ticket on the monitor");
    await refused(`${a.url}${MONITOR}?ticket=${chat}`, 401, "a chat stream's ticket on the monitor");
    // Each was refused elsewhere without being spent: it still opens its own stream.
    assert.equal((await snapshotOf(await open(withTicket(v.events, visitor)))).data.requestId, v.id);
    await open(`${a.url}${MONITOR}?ticket=${monitor}`, monitorNames);
  });

  it('another instance of the cluster (same PARLEY_SECRET) accepts the tickets', async () => {
    const v = await ask(await workgroup());
    b = await startGateway(shared);
    const visitor = issued(await askTicket(a, v.userID, { auth: bearer(v.token) }));
    const onB = withTicket(v.events.replace(a.url, b.url), visitor);
    assert.equal((await snapshotOf(await open(onB))).data.requestId, v.id);
    const monitor = issued(await monitorTicket(a, a.secret));
    await open(`${b.url}${MONITOR}?ticket=${monitor}`, monitorNames);
  });
});
