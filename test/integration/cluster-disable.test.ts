import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; jid: string };

/** Issue 21 item 11: disabling a user ends their session on the instance that holds it, not only on the one asked. */
describe('disabling a user across two gateways', function () {
  this.timeout(60_000);
  let dbUrl: string;
  let a: TestGateway;
  let b: TestGateway;
  const streams: SseClient[] = [];
  before(async () => {
    dbUrl = await freshDatabase();
    // The safety net's reload is an hour away: what reaches the other instance here is the bus message.
    const shared = {
      DATABASE_URL: dbUrl,
      PARLEY_SECRET: randomBytes(18).toString('base64url'),
      PARLEY_ACL_REFRESH_SECONDS: '3600',
    };
    a = await startGateway(shared);
    b = await startGateway(shared);
  });
  after(async () => {
    for (const s of streams) s.close();
    await a?.stop();
    await b?.stop();
    await dropDatabase(dbUrl);
  });

  it('ends the session on the instance holding it when another instance handles the disable', async () => {
    const alice = await registerUser('alice');
    const login = await call<Login>(`${a.url}/restapi/v1/chat/${alice.username}/login`, {
      json: { password: alice.password },
    });
    assert.equal(login.status, 201, login.text);
    const stream = new SseClient(withToken(login.body.events, login.body.token));
    streams.push(stream);
    await stream.opened;

    const disabled = await call(`${b.url}/restapi/v1/admin/users/${alice.username}/disabled`, {
      method: 'PUT',
      auth: b.secret,
      json: { reason: 'abuse' },
    });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal(b.parley.sessions.byUser(alice.username), undefined, 'B never held it');

    const ended = await stream.next(
      (e) => e.name === 'chatapi.session' && e.data.type === 'offline' && e.data.reason === 'disabled',
      10_000,
    );
    assert.equal(ended.data.streamId, login.body.streamId);
    assert.equal(a.parley.sessions.byUser(alice.username), undefined, 'A ended it');
  });

  it('kicks a user whose session another instance holds, and answers 404 when no instance holds one', async () => {
    const carol = await registerUser('carol');
    const login = await call<Login>(`${a.url}/restapi/v1/chat/${carol.username}/login`, {
      json: { password: carol.password },
    });
    assert.equal(login.status, 201, login.text);
    const stream = new SseClient(withToken(login.body.events, login.body.token));
    streams.push(stream);
    await stream.opened;

    const kick = `${b.url}/restapi/v1/admin/users/${carol.username}/sessions`;
    const kicked = await call(kick, { method: 'DELETE', auth: b.secret });
    assert.equal(kicked.status, 204, kicked.text);
    const ended = await stream.next(
      (e) => e.name === 'chatapi.session' && e.data.type === 'offline' && e.data.reason === 'kicked',
      10_000,
    );
    assert.equal(ended.data.streamId, login.body.streamId);
    assert.equal(a.parley.sessions.byUser(carol.username), undefined, 'A ended it');
    // A's logoff removes the session from the shared registry right after the event that ended it.
    let again = await call(kick, { method: 'DELETE', auth: b.secret });
    for (let i = 0; i < 50 && again.status === 204; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await call(kick, { method: 'DELETE', auth: b.secret });
    }
    assert.equal(again.status, 404, again.text);
  });

  it('a mute set on one instance stops sends on the other as soon as its bus message arrives, and an unmute lets them through', async () => {
    const [carol, dave] = [await registerUser('carol'), await registerUser('dave')];
    const login = async (u: typeof carol) => {
      const r = await call<Login>(`${a.url}/restapi/v1/chat/${u.username}/login`, {
        json: { password: u.password },
      });
      assert.equal(r.status, 201, r.text);
      return r.body;
    };
    const [lc] = [await login(carol), await login(dave)];
    assert.ok(a.parley.sessions.byUser(carol.username), 'carol sends through A');
    const send = (body: string) =>
      call(`${a.url}/restapi/v1/chat/${lc.streamId}/messages/${dave.username}`, {
        method: 'POST',
        auth: bearer(lc.token),
        json: { body },
      });
    assert.equal((await send('before')).status, 201, 'allowed, from A’s memory');

    const restrict = (method: 'PUT' | 'DELETE') =>
      call(`${b.url}/restapi/v1/admin/users/${carol.username}/muted`, {
        method,
        auth: b.secret,
        ...(method === 'PUT' ? { json: { reason: 'spam' } } : {}),
      });
    let heard = a.parley.policy.invalidated(carol.username);
    const muted = await restrict('PUT');
    assert.ok(muted.status >= 200 && muted.status < 300, muted.text);
    await heard; // B's bus message reached A: no reload or timer needed for what follows
    const refused = await send('while muted');
    assert.equal(refused.status, 403, refused.text);

    heard = a.parley.policy.invalidated(carol.username);
    const unmuted = await restrict('DELETE');
    assert.equal(unmuted.status, 204, unmuted.text);
    await heard;
    assert.equal((await send('after')).status, 201);
  });
});
