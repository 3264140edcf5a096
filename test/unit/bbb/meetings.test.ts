import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EchoGuard } from '../../../src/bbb/EchoGuard.js';
import { MeetingRegistry } from '../../../src/bbb/MeetingRegistry.js';
import type { Meeting } from '../../../src/bbb/MeetingStore.js';
import { joinUri, messageCallback, clearCallback } from '../../../src/bbb/bbbCallbacks.js';
import {
  internalPrefixOf,
  looksInternal,
  puppetLocalpart,
  roomLocalpart,
} from '../../../src/bbb/meetingIds.js';

const meeting = (o: Partial<Meeting>): Meeting => ({
  id: '1',
  registeredId: 'x',
  apiVersion: 2,
  chatUser: 'Bridge',
  roomJid: 'r@conference.example.org',
  ...o,
});

describe('BBB meeting ids and rooms', () => {
  it('tells internal ids from external ones and binds an external id by its sha1 prefix', () => {
    const ext = 'meeting-ext-1';
    const internal = `${createHash('sha1').update(ext).digest('hex')}-1731330000000`;
    assert.ok(looksInternal(internal));
    assert.ok(!looksInternal(ext));
    assert.ok(internal.startsWith(internalPrefixOf(ext)));
    const reg = new MeetingRegistry();
    const m = meeting({ registeredId: ext, externalId: ext });
    reg.add(m);
    assert.equal(reg.forEvent(`${'0'.repeat(40)}-1731330000000`), undefined, 'another meeting');
    assert.deepEqual(reg.forEvent(internal), { meeting: m, bound: true });
    assert.deepEqual(reg.forEvent(internal), { meeting: m, bound: false }, 'bound once');
    assert.equal(reg.find(internal), m);
    reg.remove(m);
    assert.equal(reg.forEvent(internal), undefined);
  });

  it('derives safe room and puppet local parts', () => {
    assert.equal(
      roomLocalpart('bbb-{meeting}', '183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1731330000000'),
      'bbb-183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1731330000000',
    );
    const odd = roomLocalpart('bbb-{meeting}', 'Math Class @ 9/10');
    assert.match(odd, /^bbb-math-class-9-10-[0-9a-f]{8}$/);
    assert.notEqual(
      odd,
      roomLocalpart('bbb-{meeting}', 'Math Class @ 9-10'),
      'a hash keeps lossy names apart',
    );
    assert.equal(puppetLocalpart('w_K3l9xq2mzp7a'), 'w_k3l9xq2mzp7a');
    assert.equal(puppetLocalpart('bridge'), 'u_bridge', 'never the bridge occupant itself');
  });
});

describe('BBB callbacks (what BBB-Chat sent)', () => {
  const cb = { uri: 'https://hooks.example/chat', secretEnc: 'sealed' };
  it('v1: {user_name, message} to callback_uri, signed like sendChatMessage', () => {
    const c = messageCallback(
      meeting({ apiVersion: 1, callback: cb }),
      { userName: 'Ada', message: 'hi' },
      'bbb-message:1',
    )!;
    assert.equal(c.url, 'https://hooks.example/chat');
    assert.deepEqual(
      [c.scheme, c.salt, JSON.stringify(c.params)],
      ['bbb-v1', 'sendChatMessage', '{"user_name":"Ada","message":"hi"}'],
    );
  });

  it('v2: {user_name, message, chat_id} to …/sendMessage and {chat_id} to …/clearChat, RCP-signed', () => {
    const m = meeting({ apiVersion: 2, callback: { ...cb, id: 'room@conference.example.org' } });
    const c = messageCallback(m, { userName: 'Ada', message: 'hi' }, 'bbb-message:1')!;
    assert.deepEqual(
      [c.url, c.scheme, c.salt],
      ['https://hooks.example/chat/sendMessage', 'rcp', 'sendMessage'],
    );
    assert.deepEqual(Object.keys(c.params), ['user_name', 'message', 'chat_id']);
    const clear = clearCallback(m, 'clear:1')!;
    assert.deepEqual(
      [clear.url, clear.salt, clear.params],
      ['https://hooks.example/chat/clearChat', 'clearChat', { chat_id: 'room@conference.example.org' }],
    );
    assert.equal(
      clearCallback(meeting({ apiVersion: 1, callback: cb }), 'clear:1'),
      undefined,
      'v1 had no clearChat',
    );
    assert.equal(joinUri('https://h/api/', 'sendMessage'), 'https://h/api/sendMessage');
  });

  it('gives one cause one idempotency key, and another cause another', () => {
    const m = meeting({ callback: { ...cb, id: 'c' } });
    const key = (source: string) =>
      messageCallback(m, { userName: 'a', message: 'b' }, source)!.idempotencyKey;
    assert.equal(key('bbb-message:1'), key('bbb-message:1'));
    assert.notEqual(key('bbb-message:1'), key('bbb-message:2'));
    assert.equal(
      messageCallback(meeting({}), { userName: 'a', message: 'b' }, 's'),
      undefined,
      'no callback configured',
    );
  });
});

describe('EchoGuard', () => {
  it('recognises each remembered post once, and forgets after the TTL', () => {
    let now = 0;
    const g = new EchoGuard(1000, () => now);
    g.remember('m', 'Bob', 'hi');
    g.remember('m', 'Bob', 'hi');
    assert.ok(!g.consume('m', 'Bob', 'other'));
    assert.ok(g.consume('m', 'Bob', 'hi'));
    assert.ok(g.consume('m', 'Bob', 'hi'));
    assert.ok(!g.consume('m', 'Bob', 'hi'), 'two posts, two echoes');
    g.remember('m', 'Bob', 'late');
    now = 1001;
    assert.ok(!g.consume('m', 'Bob', 'late'));
  });
});
