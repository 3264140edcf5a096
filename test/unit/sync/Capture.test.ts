import assert from 'node:assert/strict';
import xml, { type Element } from '@xmpp/xml';
import { createLogger } from '../../../src/log.js';
import type { LocalFile } from '../../../src/attachments/index.js';
import { Capture } from '../../../src/sync/Capture.js';
import type { SyncMessage } from '../../../src/sync/wire.js';

describe('Capture (the sync component taking local messages)', () => {
  const queued: { peer: string; m: SyncMessage }[] = [];
  const sent: Element[] = [];
  let releaseFile: () => void = () => undefined;
  const fileLookup = new Promise<void>((r) => (releaseFile = r));
  const file: LocalFile = {
    id: 'AAAAAAAAAAAAAAAAAAAAAA',
    name: 'a.txt',
    type: 'text/plain',
    size: 1,
    sha256: '0'.repeat(64),
    open: () => {
      throw new Error('not read here');
    },
  };
  const capture = new Capture({
    store: {
      enqueue: async (peer, m) => {
        if (queued.some((q) => q.m.id === m.id)) return false;
        queued.push({ peer, m });
        return true;
      },
    },
    files: {
      // The first message's file lookup is slow: the second must still queue after it.
      find: async (url) => (url.includes('/files/') ? (await fileLookup, file) : undefined),
    },
    component: { send: async (s) => void sent.push(s) },
    domain: 'school.example',
    componentDomain: 'sync.school.example',
    peerFor: (d) => (d === 'central.example' ? 'host' : undefined),
    queued: () => undefined,
    log: createLogger('silent'),
  });
  const message = (id: string, body: string, ...children: Element[]) =>
    xml(
      'message',
      {
        type: 'chat',
        id,
        from: 'alice@school.example/phone',
        to: 'bob\\40central.example@sync.school.example',
      },
      xml('body', {}, body),
      ...children,
    );

  it('queues in arrival order, files named by their id here, each stanza once', async () => {
    const url = 'https://school.example/files/AAAAAAAAAAAAAAAAAAAAAA/a.txt';
    const first = capture.take(message('1', url, xml('x', { xmlns: 'jabber:x:oob' }, xml('url', {}, url))));
    const second = capture.take(message('2', 'after the file'));
    const again = capture.take(message('2', 'after the file'));
    releaseFile();
    await Promise.all([first, second, again]);
    assert.deepEqual(
      queued.map((q) => [q.peer, q.m.body, q.m.to, q.m.from]),
      [
        ['host', url, 'bob@central.example', 'alice@school.example'],
        ['host', 'after the file', 'bob@central.example', 'alice@school.example'],
      ],
    );
    assert.deepEqual(queued[0]!.m.files, [{ ref: file.id, url, name: 'a.txt', type: 'text/plain', size: 1 }]);
  });

  it('bounces a message to an address that names no reachable user', async () => {
    await capture.take(
      xml(
        'message',
        {
          type: 'chat',
          id: '3',
          from: 'alice@school.example/phone',
          to: 'carol\\40elsewhere.example@sync.school.example',
        },
        xml('body', {}, 'hi'),
      ),
    );
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.attrs.type, 'error');
    assert.ok(sent[0]!.getChild('error')?.getChild('item-not-found'));
  });

  it('ignores messages from another domain and chat states', async () => {
    const before = queued.length;
    await capture.take(
      xml(
        'message',
        {
          type: 'chat',
          id: '4',
          from: 'eve@evil.example/x',
          to: 'bob\\40central.example@sync.school.example',
        },
        xml('body', {}, 'x'),
      ),
    );
    await capture.take(
      xml(
        'message',
        {
          type: 'chat',
          id: '5',
          from: 'alice@school.example/phone',
          to: 'bob\\40central.example@sync.school.example',
        },
        xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }),
      ),
    );
    assert.equal(queued.length, before);
  });
});
