import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { basic, bearer, call, withToken } from '../../helpers/http.js';
import { SseClient } from '../../helpers/sse.js';
import { expectEventMatchesSpec } from '../../helpers/openapi.js';
import { uniqueUser } from '../../rig/users.js';
import { rig } from '../../rig/rig.js';
import { ensureEjabberd, startEjabberd, type RunningEjabberd } from '../../../tools/servers/ejabberd.js';
import { createXmppClient } from '../../../src/xmpp/client/createXmppClient.js';
import { LoginTokens, type XmppSecret } from '../../../src/xmpp/client/LoginTokens.js';

type Login = { streamId: string; token: string; jid: string; events: string };

/**
 * The same login tokens on ejabberd (Debian's 23.01): its own JWT authentication (`auth_method: [mnesia, jwt]`,
 * the secret as an `oct` JWK) checks what Parley signs, so XMPP_LOGIN_TOKEN_SECRET works unchanged there.
 */
describe('existing accounts on ejabberd: login tokens through its JWT authentication', function () {
  this.timeout(90_000);
  let ej: RunningEjabberd;
  let gw: TestGateway;
  const streams: SseClient[] = [];
  const secret = randomBytes(32).toString('hex');

  before(async () => {
    await ensureEjabberd();
    ej = await startEjabberd({
      dir: join(rig.tmp, `ejabberd-${randomBytes(3).toString('hex')}`),
      componentSecret: randomBytes(12).toString('hex'),
      adminPassword: randomBytes(12).toString('hex'),
      loginTokenSecret: secret,
    });
    gw = await startGateway({
      XMPP_DOMAIN: ej.domain,
      XMPP_SERVICE: ej.service,
      XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${ej.componentPort}`,
      XMPP_ADMIN_JID: ej.adminJid,
      XMPP_ADMIN_PASSWORD: ej.adminPassword,
      XMPP_COMPONENT_SECRET: ej.componentSecret,
      XMPP_LOGIN_TOKEN_SECRET: secret,
    });
  });
  after(async () => {
    for (const s of streams) s.close();
    for (const s of streams)
      for (const e of s.events) expectEventMatchesSpec(e.name, e.data, e.id || undefined);
    await gw?.stop();
    await ej?.stop();
  });

  const native = async (prefix: string) => {
    const user = { username: uniqueUser(prefix), password: randomBytes(9).toString('base64url') };
    await ej.register(user.username, user.password);
    return user;
  };
  const login = (username: string, auth: string) =>
    call<Login>(`${gw.url}/restapi/v1/chat/${username}/login`, { method: 'POST', auth });
  /** A minted token as the gateway presents one (a TokenCredential: SASL PLAIN, never SCRAM). */
  const presented = (token: string): XmppSecret => ({ token: async () => token });
  const sasl = async (username: string, password: XmppSecret): Promise<string> => {
    const x = createXmppClient({ service: ej.service, domain: ej.domain, username, password });
    x.on('error', () => undefined);
    try {
      await x.start();
      return 'ok';
    } catch (err) {
      return String((err as { condition?: string }).condition ?? err);
    } finally {
      await x.stop().catch(() => undefined);
    }
  };

  it('opens sessions for accounts ejabberd already had, which exchange messages; passwords untouched', async () => {
    const [a, b] = [await native('ann'), await native('ben')];
    const [la, lb] = [await login(a.username, gw.secret), await login(b.username, gw.secret)];
    assert.equal(la.status, 201, la.text);
    assert.equal(lb.status, 201, lb.text);
    const bStream = new SseClient(withToken(lb.body.events, lb.body.token));
    streams.push(bStream);
    await bStream.opened;
    const sent = await call(`${gw.url}/restapi/v1/chat/${la.body.streamId}/messages/${b.username}`, {
      auth: bearer(la.body.token),
      json: { body: 'hello over ejabberd' },
    });
    assert.equal(sent.status, 201, sent.text);
    const got = await bStream.next((e) => e.name === 'chatapi.chat' && e.data.body === 'hello over ejabberd');
    assert.equal(String(got.data.from).split('/')[0], `${a.username}@${ej.domain}`);
    assert.equal(await sasl(a.username, a.password), 'ok', "the user's own password still works");
  });

  it('creates a missing account (XEP-0133 on mod_configure), then logs it in with a token', async () => {
    const r = await login(uniqueUser('new'), gw.secret);
    assert.equal(r.status, 201, r.text);
  });

  it('ejabberd refuses a token signed with another secret, an expired one, and one for another account', async () => {
    const u = await native('guard');
    const jid = `${u.username}@${ej.domain}`;
    const tokens = new LoginTokens(secret);
    assert.equal(await sasl(u.username, tokens.credentialFor(jid)), 'ok');
    assert.equal(
      await sasl(u.username, new LoginTokens(randomBytes(32).toString('hex')).credentialFor(jid)),
      'not-authorized',
    );
    assert.equal(await sasl(u.username, presented(await tokens.mint(jid, Date.now(), -1))), 'not-authorized');
    assert.equal(
      await sasl(u.username, presented(await tokens.mint(`other@${ej.domain}`))),
      'not-authorized',
    );
  });

  it("an ejabberd admin's Basic logs a user in; a non-admin's is refused", async () => {
    const u = await native('viaadmin');
    const other = await native('nonadmin');
    const adminAuth = basic(ej.adminJid.split('@')[0]!, ej.adminPassword);
    const r = await login(u.username, adminAuth);
    assert.equal(r.status, 201, r.text);
    const refused = await login(u.username, basic(other.username, other.password));
    assert.equal(refused.status, 403);
  });
});
