import assert from 'node:assert/strict';
import { mock } from 'node:test';
import xml, { type Element } from '@xmpp/xml';
import { ACK_ANSWER_MS, coalesceWrites } from '../../../../src/xmpp/client/coalesceWrites.js';

const SM = 'urn:xmpp:sm:3';

/** An entity shaped like @xmpp/connection's: send() writes through this.write(), the socket counts corks. */
function entity() {
  const written: string[] = [];
  const socket = {
    corks: 0,
    uncorks: 0,
    writableCorked: 0,
    cork() {
      this.corks++;
      this.writableCorked++;
    },
    uncork() {
      this.uncorks++;
      this.writableCorked = 0;
    },
  };
  const onDisconnect: ((this: unknown) => void)[] = [];
  const e = {
    status: 'online',
    socket,
    async write(s: string) {
      written.push(s);
    },
    async send(el: Element) {
      await this.write(el.toString());
    },
    on(_event: 'disconnect', fn: (this: unknown) => void) {
      onDisconnect.push(fn);
    },
    // as an EventEmitter calls its listeners: with the emitter as `this`
    disconnect: () => onDisconnect.forEach((fn) => fn.call(e)),
  };
  const sm = { inbound: 0 };
  coalesceWrites(e, sm);
  return { e, sm, socket, written };
}

const message = (id: string) => xml('message', { to: 'b@example.test', id }, xml('body', {}, 'hi'));

describe('coalesceWrites', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] }));
  afterEach(() => mock.timers.reset());

  it('corks the socket at the first write of a turn and uncorks it once, after the turn', async () => {
    const { e, socket, written } = entity();
    await Promise.all([e.send(message('1')), e.send(message('2')), e.write('<x/>')]);
    assert.equal(written.length, 3);
    assert.deepEqual([socket.corks, socket.uncorks], [1, 0], 'still corked within the turn');
    mock.timers.tick(0);
    assert.deepEqual([socket.corks, socket.uncorks], [1, 1]);
    await e.send(message('3'));
    assert.equal(socket.corks, 2, 'the next turn corks again');
  });

  it('holds an <a/> answer and sends it, with the count handled by then, in front of the next stanza', async () => {
    const { e, sm, written } = entity();
    sm.inbound = 3;
    await e.send(xml('a', { xmlns: SM, h: '3' }));
    assert.deepEqual(written, [], 'nothing written yet');
    sm.inbound = 5;
    await e.send(message('m'));
    assert.equal(written.length, 2);
    assert.match(written[0]!, /^<a xmlns="urn:xmpp:sm:3" h="5"\/>$/);
    assert.match(written[1]!, /^<message /);
    mock.timers.tick(ACK_ANSWER_MS);
    assert.equal(written.length, 2, 'paid once');
  });

  it('sends a held answer on its own after ACK_ANSWER_MS when nothing else goes out', async () => {
    const { e, sm, written } = entity();
    sm.inbound = 7;
    await e.send(xml('a', { xmlns: SM, h: '7' }));
    await e.send(xml('a', { xmlns: SM, h: '7' }));
    mock.timers.tick(ACK_ANSWER_MS - 1);
    assert.deepEqual(written, []);
    mock.timers.tick(1);
    assert.deepEqual(written, ['<a xmlns="urn:xmpp:sm:3" h="7"/>'], 'one answer for both requests');
  });

  it('writes a held answer before the stream’s closing tag, and answers at once when not online', async () => {
    const { e, written } = entity();
    await e.send(xml('a', { xmlns: SM, h: '0' }));
    await e.write('</stream:stream>');
    assert.deepEqual(written, ['<a xmlns="urn:xmpp:sm:3" h="0"/>', '</stream:stream>']);
    e.status = 'opening';
    await e.send(xml('a', { xmlns: SM, h: '0' }));
    assert.equal(written.length, 3);
  });

  it('forgets a held answer when the connection drops (the resumption carries the count)', async () => {
    const { e, written } = entity();
    await e.send(xml('a', { xmlns: SM, h: '1' }));
    e.disconnect();
    mock.timers.tick(ACK_ANSWER_MS);
    assert.deepEqual(written, []);
  });
});
