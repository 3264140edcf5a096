import assert from 'node:assert/strict';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { createXmppClient } from '../../../src/xmpp/client/createXmppClient.js';
import { isLoopback, pickMechanism, scramSafe } from '../../../src/xmpp/client/saslPolicy.js';

describe('SASL mechanism policy', () => {
  const both = ['SCRAM-SHA-1', 'PLAIN'];
  it('takes PLAIN over TLS, on loopback, or when explicitly allowed', () => {
    assert.equal(pickMechanism(both, { secure: true, remoteAddress: '192.0.2.7' }), 'PLAIN');
    assert.equal(pickMechanism(both, { secure: false, remoteAddress: '127.0.0.1' }), 'PLAIN');
    assert.equal(pickMechanism(both, { secure: false, remoteAddress: '::1' }), 'PLAIN');
    assert.equal(pickMechanism(both, { secure: false, remoteAddress: '192.0.2.7' }, true), 'PLAIN');
  });
  it('takes another mechanism, or refuses, on a clear-text link off this host', () => {
    assert.equal(pickMechanism(both, { secure: false, remoteAddress: '192.0.2.7' }), 'SCRAM-SHA-1');
    assert.throws(
      () => pickMechanism(['PLAIN'], { secure: false, remoteAddress: '10.1.2.3' }),
      /refusing SASL PLAIN.*XMPP_ALLOW_PLAIN_UNENCRYPTED/,
    );
    assert.throws(() => pickMechanism(['PLAIN'], { secure: false }), /refusing SASL PLAIN/);
  });
  it('sends a login token only as PLAIN, and only where a password may go', () => {
    const off = { secure: false, remoteAddress: '192.0.2.7' };
    assert.equal(pickMechanism(both, { secure: true, remoteAddress: '192.0.2.7' }, false, true), 'PLAIN');
    assert.throws(() => pickMechanism(both, off, false, true), /refusing to send a login token.*XMPP_ALLOW/);
    assert.equal(pickMechanism(both, off, true, true), 'PLAIN');
    assert.throws(
      () => pickMechanism(['SCRAM-SHA-1'], { secure: true }, false, true),
      /does not offer SASL PLAIN, which login tokens/,
    );
  });
  it('takes SCRAM-SHA-1 first for a password it can carry, wherever the link goes', () => {
    for (const link of [
      { secure: true, remoteAddress: '192.0.2.7' },
      { secure: false, remoteAddress: '127.0.0.1' },
      { secure: false, remoteAddress: '192.0.2.7' },
    ])
      assert.equal(pickMechanism(both, link, false, false, true), 'SCRAM-SHA-1');
    assert.equal(pickMechanism(['PLAIN'], { secure: true }, false, false, true), 'PLAIN', 'not offered');
    assert.equal(pickMechanism(both, { secure: true }, false, true, true), 'PLAIN', 'a login token');
    assert.ok(scramSafe('s3cret-Pass!'));
    for (const p of ['', 'with space', 'päss', 'ｐａｓｓ', 'tab\t']) assert.ok(!scramSafe(p), p);
  });
  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
    for (const a of ['192.0.2.1', '10.0.0.1', '::ffff:10.0.0.1', 'fd00::1', undefined])
      assert.ok(!isLoopback(a), String(a));
  });
});

/**
 * The wiring, against a loopback-free address of this machine: a fake server that offers SASL mechanisms
 * over clear text and records which one the client starts (it then fails the exchange).
 */
describe('createXmppClient over clear text', function () {
  this.timeout(10_000);
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  async function firstAuth(host: string, mechanisms: string[], allow?: boolean): Promise<string | undefined> {
    let mechanism: string | undefined;
    const srv = net.createServer((s) => {
      s.on('error', () => undefined);
      s.on('data', (d) => {
        const text = String(d);
        if (text.includes('<stream:stream')) {
          s.write(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s' from='localhost' version='1.0'>" +
              `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${mechanisms.map((m) => `<mechanism>${m}</mechanism>`).join('')}</mechanisms></stream:features>`,
          );
        }
        const m = /<auth [^>]*mechanism="([^"]+)"/.exec(text);
        if (m) {
          mechanism = m[1];
          s.end(
            "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure></stream:stream>",
          );
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, host, r));
    const { port } = srv.address() as net.AddressInfo;
    const x = createXmppClient({
      service: `xmpp://${host}:${port}`,
      domain: 'localhost',
      username: 'u',
      password: 'secret password',
      allowPlainUnencrypted: allow,
    });
    x.on('error', () => undefined);
    await x.start().catch(() => undefined);
    await x.stop().catch(() => undefined);
    await new Promise((r) => srv.close(r));
    return mechanism;
  }

  it('never sends PLAIN to a server off this host without TLS', async () => {
    assert.ok(external, 'this test needs a non-loopback IPv4 address on this machine');
    assert.equal(await firstAuth(external, ['PLAIN']), undefined, 'refused: the password never left');
    assert.equal(await firstAuth(external, ['PLAIN', 'SCRAM-SHA-1']), 'SCRAM-SHA-1');
    assert.equal(await firstAuth(external, ['PLAIN'], true), 'PLAIN', 'XMPP_ALLOW_PLAIN_UNENCRYPTED=true');
    assert.equal(await firstAuth('127.0.0.1', ['PLAIN', 'SCRAM-SHA-1']), 'PLAIN', 'loopback');
  });
});
