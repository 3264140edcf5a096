import assert from 'node:assert/strict';
import {
  acceptedEpochs,
  rcpChecksum,
  rcpPreimage,
  rcpValue,
  v1Checksum,
  verifyChecksum,
} from '../../../src/bbb/checksum.js';
import { pyFloat, pyJsonDumps } from '../../../src/bbb/pyJson.js';

/** Test vectors from /work/shared/reference/bbb-and-seeds.md §1.1 and §1.3 (secret change_me / cb_secret, ts 1700000000). */
const TS = 1_700_000_000;

describe('pyJsonDumps (Python json.dumps emulation)', () => {
  it('uses ", " and ": " separators and keeps the key order', () => {
    assert.equal(
      pyJsonDumps({ meeting_id: '12345678901234567890-123456789' }),
      '{"meeting_id": "12345678901234567890-123456789"}',
    );
    assert.equal(
      pyJsonDumps({ b: 1, a: [1, 'x', {}], c: { k: [] } }),
      '{"b": 1, "a": [1, "x", {}], "c": {"k": []}}',
    );
  });

  it('escapes like ensure_ascii=True: \\uXXXX in lower case, surrogate pairs, named escapes, "/" left alone', () => {
    // Expected strings printed by CPython 3.11's json.dumps.
    assert.equal(pyJsonDumps('J\u00fcrgen \u{1F600}'), '"J\\u00fcrgen \\ud83d\\ude00"');
    assert.equal(
      pyJsonDumps('a/b "q" \\ \n\t\r\b\f\u0000\u001f\u007f \u2028 <&>'),
      '"a/b \\"q\\" \\\\ \\n\\t\\r\\b\\f\\u0000\\u001f\\u007f \\u2028 <&>"',
    );
  });

  it('prints true/false/null and floats as Python repr', () => {
    assert.equal(pyJsonDumps({ t: true, f: false, z: null }), '{"t": true, "f": false, "z": null}');
    const cases: [number, string][] = [
      [1.5, '1.5'],
      [1e-5, '1e-05'],
      [1e-4, '0.0001'],
      [0.1 + 0.2, '0.30000000000000004'],
      [-2.5e-7, '-2.5e-07'],
      [123.456, '123.456'],
      [123456789012.25, '123456789012.25'],
      [-0, '-0.0'],
      [1e22, '1e+22'],
    ];
    for (const [n, py] of cases) assert.equal(pyFloat(n), py, String(n));
    assert.equal(pyJsonDumps(-0), '-0.0');
    assert.equal(pyJsonDumps(42), '42');
  });
});

describe('BBB-Chat v1 checksum', () => {
  it('matches the reference test vector', () => {
    assert.equal(
      v1Checksum('endChatForMeeting', { meeting_id: '12345678901234567890-123456789' }, 'change_me', TS),
      '74babedb4d380c63e22b26e2b017df57f5c95c5ab28912a53657a9a77ffabcab05a61ab42f58f25347a7a6515629b9bc6ecc3554923ac6485b6c28420088e3d3',
    );
  });

  it('accepts 4 s in the past to 5 s in the future with the default window, and nothing else', () => {
    assert.deepEqual(acceptedEpochs('v1', TS, 5).sort(), [
      TS - 4,
      TS - 3,
      TS - 2,
      TS - 1,
      TS,
      TS + 1,
      TS + 2,
      TS + 3,
      TS + 4,
      TS + 5,
    ]);
    const params = { meeting_id: 'm1' };
    const at = (offset: number) =>
      verifyChecksum({
        scheme: 'v1',
        name: 'endChatForMeeting',
        params,
        secret: 's',
        now: TS,
        delta: 5,
        checksum: v1Checksum('endChatForMeeting', params, 's', TS + offset),
      });
    for (let o = -4; o <= 5; o++) assert.ok(at(o), `offset ${o} accepted`);
    assert.ok(!at(-5), 'one second beyond the past edge');
    assert.ok(!at(6), 'one second beyond the future edge');
  });

  it('refuses another call name, another order of keys, another secret or an altered value', () => {
    const params = { user_name: 'Ada', message: 'hi' };
    const checksum = v1Checksum('sendChatMessage', params, 's', TS);
    const verify = (o: Partial<Parameters<typeof verifyChecksum>[0]>) =>
      verifyChecksum({
        scheme: 'v1',
        name: 'sendChatMessage',
        params,
        secret: 's',
        now: TS,
        delta: 5,
        checksum,
        ...o,
      });
    assert.ok(verify({}));
    assert.ok(!verify({ name: 'startChatForMeeting' }));
    assert.ok(!verify({ params: { message: 'hi', user_name: 'Ada' } }), 'json.dumps keeps the order sent');
    assert.ok(!verify({ secret: 't' }));
    assert.ok(!verify({ params: { user_name: 'Ada', message: 'hi!' } }));
    assert.ok(
      !verify({ checksum: checksum.toUpperCase() }),
      'hexdigest is lower case and BBB-Chat compared exactly',
    );
  });
});

describe('RCP checksum (chat-bridge API v2)', () => {
  it('matches the reference callback vector, pre-image included', () => {
    const params = { user_name: 'Alice', message: 'Hello', chat_id: 'room@conference.example.org' };
    assert.equal(
      rcpPreimage('sendMessage', params, 'cb_secret', TS),
      'sendMessagechat_idroom@conference.example.orgmessageHellouser_nameAlicecb_secret1700000000',
    );
    assert.equal(
      rcpChecksum('sendMessage', params, 'cb_secret', TS),
      'daf0a1775c2b8cd43dd5d29b56ece3f585f24978a8a2de91a38df072a009b9d000e6f1704de126ecff2ef985e7d87919165216057d63b610a15e34c90d010fda',
    );
  });

  it('matches the reference startChat vector', () => {
    const params = {
      chat_id: 'meeting-ext-1',
      chat_user: 'Bridge',
      callback_uri: 'https://bridge.example/api/',
      callback_secret: 'cb_secret',
      callback_id: 'room@conference.example.org',
    };
    assert.equal(
      rcpPreimage('startChat', params, 'change_me', TS),
      'startChatcallback_idroom@conference.example.orgcallback_secretcb_secretcallback_urihttps://bridge.example/api/chat_idmeeting-ext-1chat_userBridgechange_me1700000000',
    );
    assert.equal(
      rcpChecksum('startChat', params, 'change_me', TS),
      '32aa1caa41fbdab630c783f3a7ed4d4024b0f59d68887760be239e376a7c556f9ad593bc2acaf6154dc41fa957fe7bb181dbf65b3878599ac764868ecaeeaa4e',
    );
  });

  it('accepts [now-5, now+4] (the reverse of v1) and formats values as rc-protocol 0.0.4', () => {
    assert.deepEqual(acceptedEpochs('rcp', TS, 5).sort(), [
      TS - 5,
      TS - 4,
      TS - 3,
      TS - 2,
      TS - 1,
      TS,
      TS + 1,
      TS + 2,
      TS + 3,
      TS + 4,
    ]);
    const at = (offset: number) =>
      verifyChecksum({
        scheme: 'rcp',
        name: 'endChat',
        params: { chat_id: 'x' },
        secret: 's',
        now: TS,
        delta: 5,
        checksum: rcpChecksum('endChat', { chat_id: 'x' }, 's', TS + offset),
      });
    assert.ok(at(-5) && at(4));
    assert.ok(!at(-6) && !at(5));
    assert.deepEqual([true, false, null, 3, 1.5].map(rcpValue), ['True', 'False', 'None', '3', '1.5']);
    assert.throws(() => rcpValue(['a']), /strings/);
  });

  it('sorts keys by code point as Python does, not by UTF-16 unit', () => {
    // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 unit (0xD83D < 0xFF5E).
    assert.equal(rcpPreimage('', { '\u{1F600}': 'b', '\uFF5E': 'a' }, '', 0), '\uFF5Ea\u{1F600}b0');
  });
});
