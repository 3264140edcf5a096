import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import xml from '@xmpp/xml';
import { gatewayFixture } from '../helpers/fixture.js';
import { startGateway } from '../helpers/gateway.js';
import { basic, bearer, call, withToken } from '../helpers/http.js';
import { SseClient } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser, uniqueUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';
import { needs } from '../rig/needs.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';
import { freePort } from '../../tools/servers/freePort.js';
import { createXmppClient } from '../../src/xmpp/client/createXmppClient.js';
import { LoginTokens, type XmppSecret } from '../../src/xmpp/client/LoginTokens.js';

type Login = { streamId: string; token: string; jid: string; resource: string; events: string };
type Problem = { code: string; status: number; detail: string };

/** Logs `username` in straight at the rig's Prosody; resolves with the SASL outcome. */
async function saslOutcome(username: string, password: XmppSecret): Promise<'ok' | string> {
  const x = createXmppClient({
    service: rig.xmpp.service,
    domain: rig.xmpp.domain,
    username,
    password,
  });
  x.on('error', () => undefined);
  try {
    await x.start();
    return 'ok';
  } catch (err) {
    return String((err as { condition?: string }).condition ?? err);
  } finally {
    await x.stop().catch(() => undefined);
  }
}

describe('existing accounts: master-secret logins with login tokens (mod_auth_parley) on real Prosody', function () {
  this.timeout(30_000);
  // Read when the gateway starts (the rig exists only then).
  const env = {
    get XMPP_LOGIN_TOKEN_SECRET() {
      return rig.xmpp.loginTokenSecret!;
    },
  };
  const fx = gatewayFixture({ env: env as Record<string, string>, perTest: true });

  const masterLogin = (username: string, secret = fx.gw.secret, url = fx.gw.url) =>
    call<Login>(`${url}/restapi/v1/chat/${username}/login`, { method: 'POST', auth: secret });

  const accountRows = async (username: string): Promise<number> => {
    const db = new pg.Client({ connectionString: fx.gw.dbUrl });
    await db.connect();
    try {
      return (await db.query('SELECT 1 FROM accounts WHERE username = $1', [username])).rowCount ?? 0;
    } finally {
      await db.end();
    }
  };

  it('opens a session for an account Parley did not create, which sends and receives; its password is untouched', async () => {
    const native = await registerUser('native');
    const friend = await registerUser('friend');
    const peer = await XmppPeer.connect(friend.username, friend.password);
    fx.peers.push(peer);

    const r = await masterLogin(native.username);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.jid, native.jid);
    assert.equal(await accountRows(native.username), 0, 'Parley did not take the account over');
    const stream = new SseClient(withToken(r.body.events, r.body.token));
    fx.streams.push(stream);
    await stream.opened;

    const sent = await call(`${fx.gw.url}/restapi/v1/chat/${r.body.streamId}/messages/${friend.username}`, {
      auth: bearer(r.body.token),
      json: { body: 'hello from an old account' },
    });
    assert.equal(sent.status, 201, sent.text);
    const got = await peer.next(
      (s) => s.is('message') && s.getChildText('body') === 'hello from an old account',
    );
    assert.equal(String(got.attrs.from).split('/')[0], native.jid);

    await peer.send(
      xml('message', { to: native.jid, type: 'chat', id: 'back-1' }, xml('body', {}, 'welcome back')),
    );
    const back = await stream.next((e) => e.name === 'chatapi.chat' && e.data.body === 'welcome back');
    assert.equal(String(back.data.from).split('/')[0], friend.jid);

    assert.equal(
      await saslOutcome(native.username, native.password),
      'ok',
      "the user's own password still works",
    );
  });

  it("its own password works for Basic on /sse/{user} and on the session's calls", async () => {
    const native = await registerUser('own');
    const r = await masterLogin(native.username);
    assert.equal(r.status, 201, r.text);
    const auth = basic(native.username, native.password);

    const sse = new SseClient(`${fx.gw.url}/sse/${native.username}`, { headers: { Authorization: auth } });
    fx.streams.push(sse);
    await sse.opened;
    const snapshot = await sse.next((e) => e.name === 'chatapi.session');
    assert.equal(snapshot.data.streamId, r.body.streamId);

    const info = await call(`${fx.gw.url}/restapi/v1/chat/${r.body.streamId}`, { auth });
    assert.equal(info.status, 200, info.text);
    const wrong = await call(`${fx.gw.url}/restapi/v1/chat/${r.body.streamId}`, {
      auth: basic(native.username, 'not-the-password'),
    });
    assert.equal(wrong.status, 401);
  });

  it('creates a missing account over XEP-0133 first, then logs it in with a token', async () => {
    const name = uniqueUser('fresh');
    const r = await masterLogin(name);
    assert.equal(r.status, 201, r.text);
    assert.equal(await accountRows(name), 1);
    const again = await masterLogin(name);
    assert.equal(again.status, 200);
    assert.equal(again.body.streamId, r.body.streamId);
  });

  needs(
    'login-token-lifetime-and-single-use',
    'it expects a token valid too long and a replayed token to be refused',
  )(
    'Prosody refuses a token signed with another secret, an expired one, one valid too long, and a replay',
    async () => {
      const u = await registerUser('guarded');
      const tokens = new LoginTokens(rig.xmpp.loginTokenSecret!);
      const forged = new LoginTokens(randomBytes(32).toString('hex'));
      assert.equal(await saslOutcome(u.username, tokens.credentialFor(u.jid)), 'ok', 'a good token opens');
      assert.equal(await saslOutcome(u.username, forged.credentialFor(u.jid)), 'not-authorized');
      // A minted token as the gateway presents one (a TokenCredential: SASL PLAIN, never SCRAM).
      const presented = (token: string) => ({ token: async () => token });
      const expired = await tokens.mint(u.jid, Date.now(), -1);
      assert.equal(await saslOutcome(u.username, presented(expired)), 'not-authorized');
      const tooLong = await tokens.mint(u.jid, Date.now(), 3600);
      assert.equal(await saslOutcome(u.username, presented(tooLong)), 'not-authorized');
      const other = await registerUser('other');
      assert.equal(await saslOutcome(u.username, presented(await tokens.mint(other.jid))), 'not-authorized');
      const once = await tokens.mint(u.jid);
      assert.equal(await saslOutcome(u.username, presented(once)), 'ok');
      assert.equal(
        await saslOutcome(u.username, presented(once)),
        'not-authorized',
        'a token opens one session',
      );
      const ghost = uniqueUser('ghost');
      assert.equal(
        await saslOutcome(ghost, tokens.credentialFor(`${ghost}@${rig.xmpp.domain}`)),
        'not-authorized',
        'a token never opens an account that does not exist',
      );
    },
  );

  it('a master-secret session of an existing account comes back after a gateway restart (with a new token)', async () => {
    const native = await registerUser('restored');
    // One instance as an operator runs it (same port, id, secret and database); no admin JID needed: the
    // account exists.
    const env = {
      PARLEY_PORT: String(await freePort()),
      PARLEY_INSTANCE_ID: `tokens-${randomBytes(3).toString('hex')}`,
      PARLEY_SECRET: randomBytes(18).toString('base64url'),
      DATABASE_URL: await freshDatabase(),
      XMPP_LOGIN_TOKEN_SECRET: rig.xmpp.loginTokenSecret!,
      XMPP_ADMIN_JID: '',
      XMPP_ADMIN_PASSWORD: '',
    };
    let gw = await startGateway(env);
    try {
      const r = await masterLogin(native.username, gw.secret, gw.url);
      assert.equal(r.status, 201, r.text);
      await gw.parley.stop();
      gw = await startGateway(env);
      let state = '';
      for (let i = 0; i < 150 && state !== 'online'; i++) {
        const info = await call<{ state: string }>(`${gw.url}/restapi/v1/chat/${r.body.streamId}`, {
          auth: bearer(r.body.token),
        });
        state = info.status === 200 ? info.body.state : String(info.status);
        if (state !== 'online') await new Promise((done) => setTimeout(done, 200));
      }
      assert.equal(state, 'online', 'restored with a token minted by the new run');
    } finally {
      await gw.parley.stop();
      await dropDatabase(env.DATABASE_URL);
    }
  });

  it('a gateway whose secret the server does not share answers 502 LOGIN_TOKEN_REFUSED', async () => {
    // No admin JID: nothing but the token is tried.
    const other = await startGateway({
      XMPP_LOGIN_TOKEN_SECRET: randomBytes(32).toString('hex'),
      XMPP_ADMIN_JID: '',
      XMPP_ADMIN_PASSWORD: '',
    });
    try {
      const native = await registerUser('mismatch');
      const r = await masterLogin(native.username, other.secret, other.url);
      assert.equal(r.status, 502, r.text);
      assert.equal((r.body as unknown as Problem).code, 'LOGIN_TOKEN_REFUSED');
    } finally {
      await other.stop();
    }
  });
});
