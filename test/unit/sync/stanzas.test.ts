import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import { deliveryStanza, isChatMessage, stableId } from '../../../src/sync/stanzas.js';

describe('sync stanzas', () => {
  const msg = (attrs: Record<string, string>, ...children: ReturnType<typeof xml>[]) =>
    xml(
      'message',
      { from: 'alice@school.example/phone', to: 'bob\\40central.example@sync.school.example', ...attrs },
      ...children,
    );

  it('carries written chat messages only', () => {
    assert.ok(isChatMessage(msg({ type: 'chat' }, xml('body', {}, 'hi'))));
    assert.ok(
      !isChatMessage(
        msg({ type: 'chat' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })),
      ),
    );
    assert.ok(!isChatMessage(msg({ type: 'error' }, xml('body', {}, 'hi'))));
    assert.ok(!isChatMessage(msg({ type: 'groupchat' }, xml('body', {}, 'hi'))));
  });

  it('gives one stable id per sender and stanza id (origin-id first)', () => {
    const a = msg({ type: 'chat', id: 'x1' }, xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'o1' }));
    const b = msg({ type: 'chat', id: 'x2' }, xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'o1' }));
    assert.equal(
      stableId('school.example', 'alice@school.example', a),
      stableId('school.example', 'alice@school.example', b),
    );
    assert.notEqual(
      stableId('school.example', 'alice@school.example', a),
      stableId('school.example', 'carol@school.example', a),
    );
    assert.match(stableId('school.example', 'alice@school.example', a)!, /^school\.example:[\w-]{32}$/);
    assert.equal(stableId('school.example', 'alice@school.example', msg({ type: 'chat' })), undefined);
  });

  it('delivers with the local file URLs, the stable id and the original time', () => {
    const el = deliveryStanza(
      {
        id: 'school.example:abc',
        from: 'alice\\40school.example@sync.central.example',
        to: 'bob@central.example',
        body: 'look https://school.example/files/A/notes.txt',
        sentAt: '2026-12-06T06:00:00.000Z',
        files: [
          {
            url: 'https://school.example/files/A/notes.txt',
            local: {
              url: 'https://central.example/files/B/notes.txt',
              name: 'notes.txt',
              size: 5,
              type: 'text/plain',
            },
          },
        ],
        links: [],
      },
      'sync.central.example',
    );
    assert.equal(el.attrs.id, 'school.example:abc');
    assert.equal(el.attrs.from, 'alice\\40school.example@sync.central.example');
    assert.equal(el.getChildText('body'), 'look https://central.example/files/B/notes.txt');
    assert.equal(
      el.getChild('x', 'jabber:x:oob')?.getChildText('url'),
      'https://central.example/files/B/notes.txt',
    );
    assert.equal(el.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp, '2026-12-06T06:00:00.000Z');
    const data = JSON.parse(el.getChild('data', 'urn:parley:data:0')!.text()) as { attachments: unknown[] };
    assert.equal(data.attachments.length, 1);
  });
});
