import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gatewayFixture } from '../helpers/fixture.js';
import { startGateway } from '../helpers/gateway.js';
import { basic, bearer, call } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

type Login = { streamId: string; token: string; jid: string; events: string };
type Problem = { code: string; status: number };

/**
 * ofchat's AuthFilter + ChatService.login: an XMPP server admin's Basic credentials log any user in without
 * a password and act on that user's session and /sse stream. The rig's Prosody names `admin` in `admins`.
 */
describe("admin Basic credentials (an XMPP server admin, as ofchat's AuthFilter) on real Prosody", function () {
  this.timeout(30_000);
  const env = {
    get XMPP_LOGIN_TOKEN_SECRET() {
      return rig.xmpp.loginTokenSecret!;
    },
  };
  const fx = gatewayFixture({ env: env as Record<string, string>, perTest: true });
  const admin = () => basic(rig.xmpp.adminJid.split('@')[0]!, rig.xmpp.adminPassword);
  const login = (username: string, auth: string, url = fx.gw.url) =>
    call<Login>(`${url}/restapi/v1/chat/${username}/login`, { method: 'POST', auth });

  it("logs any user in without a password, and acts on that user's session and /sse stream", async () => {
    const native = await registerUser('php');
    const r = await login(native.username, admin());
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.jid, native.jid);

    const info = await call(`${fx.gw.url}/restapi/v1/chat/${r.body.streamId}`, { auth: admin() });
    assert.equal(info.status, 200, info.text);
    const sent = await call(`${fx.gw.url}/restapi/v1/chat/${r.body.streamId}/messages/${native.username}`, {
      auth: admin(),
      json: { body: 'note to self' },
    });
    assert.equal(sent.status, 201, sent.text);

    const sse = new SseClient(`${fx.gw.url}/sse/${native.username}`, { headers: { Authorization: admin() } });
    fx.streams.push(sse);
    await sse.opened;
    const snapshot = await sse.next((e) => e.name === 'chatapi.session');
    assert.equal(snapshot.data.streamId, r.body.streamId);

    const again = await login(native.username, admin());
    assert.equal(again.status, 200, 'reuses the live session');
    const byToken = await call(`${fx.gw.url}/restapi/v1/chat/${r.body.streamId}`, {
      auth: bearer(again.body.token),
    });
    assert.equal(byToken.status, 200);
  });

  it('is refused elsewhere: master-only routes, a wrong admin password, and a non-admin acting for another', async () => {
    const alice = await registerUser('alice');
    const bob = await registerUser('bob');

    const adminRoute = await call(`${fx.gw.url}/restapi/v1/admin/sessions`, { auth: admin() });
    assert.equal(adminRoute.status, 403, 'operator routes stay master-secret only');

    const wrong = await login(alice.username, basic(rig.xmpp.adminJid.split('@')[0]!, 'not-it'));
    assert.equal(wrong.status, 401);
    assert.equal((wrong.body as unknown as Problem).code, 'BAD_CREDENTIALS');

    const asBob = basic(bob.username, bob.password);
    const notAdmin = await login(alice.username, asBob);
    assert.equal(notAdmin.status, 403);
    assert.equal((notAdmin.body as unknown as Problem).code, 'FORBIDDEN');

    const la = await login(alice.username, basic(alice.username, alice.password));
    assert.equal(la.status, 201, la.text);
    const theirs = await call(`${fx.gw.url}/restapi/v1/chat/${la.body.streamId}`, { auth: asBob });
    assert.equal(theirs.status, 403);
    const sse = await fetch(`${fx.gw.url}/sse/${alice.username}`, { headers: { Authorization: asBob } });
    assert.equal(sse.status, 403);
    await sse.body?.cancel();
  });

  it('PARLEY_ADMIN_BASIC=false: an admin acts only for themself', async () => {
    // No admin JID: nothing but the caller's credentials and the token are tried.
    const off = await startGateway({
      PARLEY_ADMIN_BASIC: 'false',
      XMPP_LOGIN_TOKEN_SECRET: rig.xmpp.loginTokenSecret!,
      XMPP_ADMIN_JID: '',
      XMPP_ADMIN_PASSWORD: '',
      PARLEY_SECRET: randomBytes(18).toString('base64url'),
    });
    try {
      const native = await registerUser('plain');
      const r = await login(native.username, admin(), off.url);
      assert.equal(r.status, 403, r.text);
      const master = await login(native.username, off.secret, off.url);
      assert.equal(master.status, 201, 'the master secret still opens it (login token)');
    } finally {
      await off.stop();
    }
  });
});
