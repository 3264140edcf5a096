import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';
import { registerUser, type TestUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';
import { XmppPeer } from '../helpers/xmppPeer.js';

type Login = { streamId: string; token: string; events: string; jid: string };

describe('two gateways sharing PostgreSQL and Redis', function () {
  this.timeout(60_000);
  let dbUrl: string;
  let a: TestGateway | undefined;
  let b: TestGateway;
  const streams: SseClient[] = [];
  before(async () => {
    dbUrl = await freshDatabase();
    // As operators must: one PARLEY_SECRET for all instances (sealed passwords, tokens' peers).
    const shared = { DATABASE_URL: dbUrl, PARLEY_SECRET: randomBytes(18).toString('base64url') };
    a = await startGateway(shared);
    b = await startGateway(shared);
  });
  after(async () => {
    for (const s of streams) s.close();
    await a?.stop();
    await b?.stop();
    await dropDatabase(dbUrl);
  });
  const login = async (gw: TestGateway, u: TestUser) => {
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status < 300, r.text);
    return r.body;
  };
  const sse = (url: string) => {
    const s = new SseClient(url);
    streams.push(s);
    return s;
  };

  it('delivers events to streams on either instance and runs commands where the session lives', async () => {
    const [alice, bob] = [await registerUser('alice'), await registerUser('bob')];
    const la = await login(a!, alice);
    const lb = await login(b, bob);
    const onA = sse(withToken(la.events, la.token));
    const onB = sse(withToken(`${b.url}/restapi/v1/chat/${la.streamId}/events`, la.token));
    await Promise.all([onA.opened, onB.opened]);
    await onB.next((e) => e.data.snapshot === true);

    const sent = await call(`${b.url}/restapi/v1/chat/${lb.streamId}/messages/${alice.username}`, {
      method: 'POST',
      auth: bearer(lb.token),
      text: 'across the cluster',
    });
    assert.equal(sent.status, 201, sent.text);
    const [viaA, viaB] = await Promise.all(
      [onA, onB].map((s) => s.next((e) => e.data.body === 'across the cluster')),
    );
    assert.equal(viaA!.id, viaB!.id, 'the same durable event, through the Redis bus on B');

    // Alice's commands work through B: passed to A, which holds her XMPP session.
    const reply = await call(`${b.url}/restapi/v1/chat/${la.streamId}/messages/${bob.username}`, {
      method: 'POST',
      auth: bearer(la.token),
      json: { body: 'reply via B' },
    });
    assert.equal(reply.status, 201, reply.text);
    // A second login on B reuses the one session on A.
    const again = await login(b, alice);
    assert.equal(again.streamId, la.streamId);
  });

  it('moves components and sessions when an instance goes away: same stream id and token on the other, nothing lost', async () => {
    const [carol, dave] = [await registerUser('carol'), await registerUser('dave')];
    const lc = await login(a!, carol);
    const ld = await login(b, dave);
    const s1 = sse(withToken(lc.events, lc.token));
    await s1.opened;
    await call(`${b.url}/restapi/v1/chat/${ld.streamId}/messages/${carol.username}`, {
      method: 'POST',
      auth: bearer(ld.token),
      text: 'first',
    });
    const first = await s1.next((e) => e.data.body === 'first');
    s1.close();

    const watcherUser = await registerUser('watch');
    const watcher = await XmppPeer.connect(watcherUser.username, watcherUser.password);
    try {
      await a!.stop();
      a = undefined;
      // A held the components (it started first); B, retrying as a standby, takes them over.
      const t0 = Date.now();
      for (const component of [`workgroup.${rig.xmpp.domain}`]) {
        // bbb.<domain> runs only with BBB_SECRET set
        while (!(await watcher.ping(component))) {
          assert.ok(Date.now() - t0 < 10_000, `${component} not taken over within 10 s`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      await watcher.stop();
    }
    for (const body of ['while A was gone 1', 'while A was gone 2']) {
      assert.equal(
        (
          await call(`${b.url}/restapi/v1/chat/${ld.streamId}/messages/${carol.username}`, {
            method: 'POST',
            auth: bearer(ld.token),
            text: body,
          })
        ).status,
        201,
      );
    }
    // B adopted Carol's session (A stopped beating): the same stream id and token answer there.
    for (let i = 0; ; i++) {
      const r = await call<{ state: string }>(`${b.url}/restapi/v1/chat/${lc.streamId}`, {
        auth: bearer(lc.token),
      });
      if (r.status === 200 && r.body.state === 'online') break;
      assert.ok(i < 100, `carol's session not adopted by B: ${r.status} ${r.text}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    const lc2 = await login(b, carol);
    assert.equal(lc2.streamId, lc.streamId, 'the same session, now on B');
    const s2 = sse(withToken(`${b.url}/restapi/v1/chat/${lc.streamId}/events`, lc.token, first.id));
    await s2.next((e) => e.data.body === 'while A was gone 2', 15_000);
    const bodies = s2.events.filter((e) => e.name === 'chatapi.chat').map((e) => e.data.body);
    assert.deepEqual(bodies, ['while A was gone 1', 'while A was gone 2']);
  });
});
