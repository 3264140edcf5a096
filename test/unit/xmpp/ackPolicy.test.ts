import assert from 'node:assert/strict';
import { mock } from 'node:test';
import xml from '@xmpp/xml';
import { createXmppClient } from '../../../src/xmpp/client/createXmppClient.js';
import { ACK_EVERY_STANZAS, ACK_QUIET_MS } from '../../../src/xmpp/client/ackPolicy.js';

const SM = 'urn:xmpp:sm:3';

/**
 * The real client composition (@xmpp/stream-management and all), with the socket write stubbed and the
 * clock faked, so the library's timers can run for minutes and every element written is counted.
 */
function client() {
  const x = createXmppClient({
    service: 'xmpp://127.0.0.1:1',
    domain: 'example.test',
    username: 'u',
    password: 'p',
  });
  const written: string[] = [];
  let disconnects = 0;
  const transports = (x as unknown as { transports: unknown[] }).transports;
  Object.assign(x, {
    Transport: transports[0], // what connect() would pick for xmpp://
    write: async (s: string) => void written.push(s),
    disconnect: async () => void disconnects++,
  });
  (x as unknown as { streamManagement: { enabled: boolean } }).streamManagement.enabled = true;
  const inbound = (el: ReturnType<typeof xml>) => x.emit('element', el);
  return {
    x,
    inbound,
    requests: () => written.filter((s) => s.startsWith('<r ') && s.includes(SM)).length,
    get disconnects() {
      return disconnects;
    },
  };
}

describe('XEP-0198 ack policy (batchAcks)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());
  const flush = () => new Promise((r) => setImmediate(r));

  it('never asks an idle session for an ack (the library asked every 30 s)', async () => {
    const c = client();
    c.inbound(xml('message', { from: 'a@example.test/r', type: 'chat' }, xml('body', {}, 'hi')));
    await flush();
    for (let i = 0; i < 20; i++) mock.timers.tick(30_000); // ten idle minutes
    await flush();
    assert.equal(c.requests(), 0);
    assert.equal(c.disconnects, 0);
  });

  it('asks once per batch of outbound stanzas and once when they stop, then never again', async () => {
    const c = client();
    const n = 2 * ACK_EVERY_STANZAS + 5;
    for (let i = 0; i < n; i++) await c.x.send(xml('message', { to: 'b@example.test', type: 'chat' }));
    await flush();
    assert.equal(c.requests(), 2, 'one <r/> per full batch while the stanzas keep coming');
    mock.timers.tick(ACK_QUIET_MS);
    await flush();
    assert.equal(c.requests(), 3, 'one more once the session went quiet, covering the tail');
    c.inbound(xml('a', { xmlns: SM, h: String(n) }));
    await flush();
    for (let i = 0; i < 20; i++) mock.timers.tick(30_000);
    await flush();
    assert.equal(c.requests(), 3, 'nothing unacked: no more requests');
    assert.equal(c.disconnects, 0, 'the server answered');
  });

  it('still drops a link whose server stops answering after activity (then resumption takes over)', async () => {
    const c = client();
    await c.x.send(xml('message', { to: 'b@example.test', type: 'chat' }));
    mock.timers.tick(ACK_QUIET_MS);
    await flush();
    assert.equal(c.requests(), 1);
    mock.timers.tick(60_000);
    await flush();
    assert.equal(c.disconnects, 1);
  });
});
