import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { createComponent, type ComponentConnection } from '../../../src/xmpp/component/createComponent.js';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { createLogger } from '../../../src/log.js';
import { XmppPeer } from '../../helpers/xmppPeer.js';
import { registerUser } from '../../rig/users.js';
import { rig } from '../../rig/rig.js';

describe("createComponent (XEP-0114) against the rig's Prosody", () => {
  const log = createLogger('silent');
  let comp: ComponentConnection | undefined;
  let peer: XmppPeer | undefined;
  afterEach(async () => {
    await comp?.stop();
    await peer?.stop();
    comp = undefined;
    peer = undefined;
  });
  const service = () => `xmpp://127.0.0.1:${rig.xmpp.componentPort}`;

  it("answers IQs, and turns a thrown BridgeError into the error table's XMPP condition", async () => {
    comp = createComponent({
      service: service(),
      domain: `workgroup.${rig.xmpp.domain}`,
      secret: rig.xmpp.componentSecret,
      reconnectMaxSeconds: 1,
      log,
    });
    comp.onIq('get', 'http://jabber.org/protocol/disco#info', 'query', () => {
      throw new BridgeError('NOT_FOUND', 'no such workgroup');
    });
    await comp.start();
    assert.ok(comp.isOnline);
    const u = await registerUser('comp');
    peer = await XmppPeer.connect(u.username, u.password);
    assert.ok(await peer.ping(`workgroup.${rig.xmpp.domain}`));
    await assert.rejects(
      peer.x.iqCaller.request(
        xml(
          'iq',
          { type: 'get', to: `x@workgroup.${rig.xmpp.domain}` },
          xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
        ),
        5000,
      ),
      (err: { condition?: string; text?: string }) =>
        err.condition === 'item-not-found' && err.text === 'no such workgroup',
    );
  });

  it('fails at once with a clear message on a wrong component secret', async () => {
    comp = createComponent({
      service: service(),
      domain: `bbb.${rig.xmpp.domain}`,
      secret: 'wrong',
      reconnectMaxSeconds: 1,
      log,
    });
    await assert.rejects(comp.start(), /XMPP_COMPONENT_SECRET/);
  });
});
