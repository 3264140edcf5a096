import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string };

describe('idle sessions (PARLEY_SESSION_IDLE_SECONDS=1)', function () {
  this.timeout(20_000);
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ PARLEY_SESSION_IDLE_SECONDS: '1' });
  });
  after(async () => {
    await gw?.stop();
  });

  const login = async () => {
    const u = await registerUser('idle');
    return (
      await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } })
    ).body;
  };
  const alive = async (l: Login) =>
    (await call(`${gw.url}/restapi/v1/chat/${l.streamId}`, { auth: bearer(l.token) })).status === 200;

  it('logs off a session with no open stream and no calls, and keeps one with an open stream', async () => {
    const quiet = await login();
    const watched = await login();
    const stream = new SseClient(withToken(watched.events, watched.token));
    try {
      await stream.opened;
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(await alive(quiet), false, 'the idle session was logged off');
      assert.equal(await alive(watched), true, 'a session with an open stream is not idle');
    } finally {
      stream.close();
    }
  });
});
