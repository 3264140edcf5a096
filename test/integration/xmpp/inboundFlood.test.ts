import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { gatewayFixture } from '../../helpers/fixture.js';
import { bearer, call } from '../../helpers/http.js';
import { XmppPeer } from '../../helpers/xmppPeer.js';
import { registerUser } from '../../rig/users.js';
import { rig } from '../../rig/rig.js';

type Login = { streamId: string; token: string; jid: string; resource: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bounded flood: at most this many messages, sent in bursts without waiting for the server. */
const FLOOD = 3000;

/**
 * Closing a user's XMPP session while the server is still delivering to it (logoff, a server restart)
 * is where @xmpp/connection detaches its parser with the socket still receiving (xmppjs/xmpp.js#860).
 * Any uncaught exception fails the test (mocha catches it), so reaching the race would show here.
 */
describe('closing sessions under an inbound flood', function () {
  this.timeout(90_000);
  const fx = gatewayFixture({
    beforeStop: async () => {
      if (!rig.xmpp.isRunning()) await rig.xmpp.start();
    },
  });

  async function loginAndFlood(prefix: string) {
    const [u, p] = await Promise.all([registerUser(prefix), registerUser(`${prefix}-flood`)]);
    const l = (
      await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
        json: { password: u.password },
      })
    ).body;
    const peer = await XmppPeer.connect(p.username, p.password);
    fx.peers.push(peer);
    let sent = 0;
    let stopped = false;
    const flood = (async () => {
      while (!stopped && sent < FLOOD) {
        const burst = [];
        for (let i = 0; i < 100 && sent < FLOOD; i++, sent++)
          burst.push(
            peer.send(
              xml('message', { to: `${l.jid}/${l.resource}`, type: 'chat' }, xml('body', {}, `f${sent}`)),
            ),
          );
        await Promise.all(burst).catch(() => (stopped = true)); // the server went away: stop flooding
        await sleep(1);
      }
    })();
    return { l, sent: () => sent, stop: () => ((stopped = true), flood) };
  }

  it('logs a user off mid-flood, and survives a server restart mid-flood, with the process intact', async () => {
    const a = await loginAndFlood('flood-off');
    while (a.sent() < FLOOD / 3) await sleep(5);
    const off = await call(`${fx.gw.url}/restapi/v1/chat/${a.l.streamId}/logoff`, {
      method: 'POST',
      auth: bearer(a.l.token),
    });
    assert.equal(off.status, 204);
    await a.stop();

    const b = await loginAndFlood('flood-restart');
    while (b.sent() < FLOOD / 3) await sleep(5);
    await rig.xmpp.stop();
    await b.stop();
    await sleep(300);
    await rig.xmpp.start();
    // The gateway process is still here and its session comes back by itself.
    for (let i = 0; i < 100; i++) {
      const info = await call<{ state: string }>(`${fx.gw.url}/restapi/v1/chat/${b.l.streamId}`, {
        auth: bearer(b.l.token),
      });
      if (info.body.state === 'online') break;
      await sleep(200);
    }
    const info = await call<{ state: string }>(`${fx.gw.url}/restapi/v1/chat/${b.l.streamId}`, {
      auth: bearer(b.l.token),
    });
    assert.equal(info.body.state, 'online');
    assert.equal((await call(`${fx.gw.url}/healthz`)).status, 200);
  });
});
