import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

type Login = { streamId: string; token: string; events: string; jid: string; resource: string };

describe('XMPP server outage', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let stream: SseClient | undefined;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    stream?.close();
    if (!rig.xmpp.isRunning()) await rig.xmpp.start();
    await gw?.stop();
  });

  it('reports reconnecting and 503 readiness while Prosody is down, and recovers without client action', async () => {
    const u = await registerUser('outage');
    const l = (
      await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } })
    ).body;
    stream = new SseClient(withToken(l.events, l.token));
    await stream.next((e) => e.data.snapshot === true);
    assert.equal((await call(`${gw.url}/readyz`)).status, 200);

    await rig.xmpp.stop();
    const reconnecting = await stream.next((e) => e.data.type === 'reconnecting');
    assert.match(reconnecting.id, /^\d+$/);
    const ready = await call<{ checks: { xmpp: string; database: string } }>(`${gw.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks.xmpp, 'down');
    assert.equal(ready.body.checks.database, 'ok');
    assert.ok(ready.headers.get('retry-after'));
    const info = await call<{ state: string }>(`${gw.url}/restapi/v1/chat/${l.streamId}`, {
      auth: bearer(l.token),
    });
    assert.equal(info.body.state, 'reconnecting');

    await rig.xmpp.start();
    const back = await stream.next(
      (e) => e.data.type === 'online' && e.id !== '' && BigInt(e.id) > BigInt(reconnecting.id),
      20_000,
    );
    assert.equal(back.data.streamId, l.streamId, 'the same stream, no new login');
    const peerUser = await registerUser('peer');
    const peer = await XmppPeer.connect(peerUser.username, peerUser.password);
    try {
      assert.ok(await peer.ping(`${l.jid}/${l.resource}`), 'same resource is online again');
    } finally {
      await peer.stop();
    }
    for (let i = 0; i < 50 && (await call(`${gw.url}/readyz`)).status !== 200; i++)
      await new Promise((r) => setTimeout(r, 200));
    assert.equal((await call(`${gw.url}/readyz`)).status, 200);
  });
});
