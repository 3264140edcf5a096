import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { call, withToken } from '../helpers/http.js';
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
});
