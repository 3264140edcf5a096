import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { client, type Client } from '@xmpp/client';
import xml, { type Element } from '@xmpp/xml';
import { ensureEjabberd, startEjabberd, type RunningEjabberd } from '../../tools/servers/ejabberd.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { SseClient, type ReceivedEvent } from '../helpers/sse.js';
import { rig } from '../rig/rig.js';
import { uniqueUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string };
type Member = { username: string; online: boolean };

/**
 * Organisation presence is plain RFC 6121 (a roster item and a presence subscription of Parley's admin JID
 * to each member), so it needs nothing of the XMPP server beyond the core: the same flow against ejabberd
 * 23.01 (Debian's), started here in a directory of its own, with a Parley member and a native one.
 */
describe('organisation presence (groups) against real ejabberd', function () {
  this.timeout(90_000);
  let ejabberd: RunningEjabberd;
  let gw: TestGateway;
  const streams: SseClient[] = [];
  const natives: Client[] = [];

  before(async () => {
    await ensureEjabberd();
    ejabberd = await startEjabberd({
      dir: join(rig.tmp, `ejabberd-groups-${randomBytes(3).toString('hex')}`),
      componentSecret: randomBytes(12).toString('hex'),
      adminPassword: randomBytes(12).toString('hex'),
    });
    gw = await startGateway({
      XMPP_DOMAIN: ejabberd.domain,
      XMPP_SERVICE: ejabberd.service,
      XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${ejabberd.componentPort}`,
      XMPP_COMPONENT_SECRET: ejabberd.componentSecret,
      XMPP_ADMIN_JID: ejabberd.adminJid,
      XMPP_ADMIN_PASSWORD: ejabberd.adminPassword,
    });
  });
  after(async () => {
    for (const s of streams) s.close();
    for (const x of natives) await x.stop().catch(() => undefined);
    await gw?.stop();
    await ejabberd?.stop();
  });

  async function user(prefix: string) {
    const username = uniqueUser(prefix);
    const password = randomBytes(9).toString('base64url');
    await ejabberd.register(username, password);
    return { username, password, jid: `${username}@${ejabberd.domain}` };
  }
  async function login(u: { username: string; password: string }) {
    const l = (
      await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } })
    ).body;
    const events = new SseClient(withToken(l.events, l.token));
    streams.push(events);
    await events.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    return { ...l, events };
  }
  async function native(u: {
    username: string;
    password: string;
  }): Promise<{ x: Client; stanzas: Element[] }> {
    const x = client({
      service: ejabberd.service,
      domain: ejabberd.domain,
      username: u.username,
      password: u.password,
    });
    x.reconnect.stop();
    x.on('error', () => undefined);
    const stanzas: Element[] = [];
    x.on('stanza', (s) => stanzas.push(s));
    natives.push(x);
    await x.start();
    await x.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    await x.send(xml('presence'));
    return { x, stanzas };
  }
  const groupEvent = (type: string, username: string) => (e: ReceivedEvent) =>
    e.name === 'chatapi.group' && e.data.type === type && (e.data.member as Member).username === username;
  const master = () => bearer(gw.secret);

  it('shows a Parley member and a native member come online and go offline, live', async () => {
    const [carer, ann, bert] = [await user('carer'), await user('ann'), await user('bert')];
    const id = uniqueUser('home');
    const admin = (path: string, json: unknown) =>
      call(`${gw.url}/restapi/v1/admin/groups/${id}${path}`, { method: 'PUT', auth: master(), json });
    assert.equal((await admin('', { name: 'Sunrise' })).status, 201);
    const members = [carer, ann, bert].map((u) => ({ username: u.username, name: u.username }));
    assert.equal((await admin('/members', { members })).status, 200);

    const sam = await login(carer);
    const a = await login(ann);
    await sam.events.next(groupEvent('online', ann.username), 20_000);

    const b = await native(bert);
    const asked = () => b.stanzas.find((s) => s.name === 'presence' && s.attrs.type === 'subscribe');
    for (let i = 0; i < 100 && !asked(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(String(asked()?.attrs.from).split('/')[0], ejabberd.adminJid);
    await b.x.send(xml('presence', { to: ejabberd.adminJid, type: 'subscribed' }));
    await sam.events.next(groupEvent('online', bert.username), 20_000);

    const online = await call<{ members: Member[] }>(
      `${gw.url}/restapi/v1/groups/${id}/members?online=true`,
      {
        auth: master(),
      },
    );
    assert.deepEqual(
      online.body.members.map((m) => m.username).sort(),
      [carer.username, ann.username, bert.username].sort(),
    );

    await b.x.stop();
    await sam.events.next(groupEvent('offline', bert.username), 20_000);
    await call(`${gw.url}/restapi/v1/chat/${a.streamId}/logoff`, { method: 'POST', auth: bearer(a.token) });
    await sam.events.next(groupEvent('offline', ann.username), 20_000);
  });
});
