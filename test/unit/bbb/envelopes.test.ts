import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  parseHandled,
  sendGroupChatMessageFromApiSysPubMsg,
  sendGroupChatMessageMsg,
} from '../../../src/bbb/envelopes.js';

/** Copies of /work/shared/reference/bbb-samples (BBB's own message formats, reference §2.7). */
const SAMPLES = new URL('./samples/', import.meta.url).pathname;
const sample = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(SAMPLES + name, 'utf8')) as Record<string, unknown>;

describe('BBB envelopes', () => {
  it('builds SendGroupChatMessageMsg exactly as the 2.x sample (fields, order, values)', () => {
    const built = sendGroupChatMessageMsg({
      meetingId: '183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1731330000000',
      userId: 'w_bridgebot0001',
      message: 'Expert Bob wrote: the queue is now open',
      now: 1731330123400,
    });
    const expected = sample('SendGroupChatMessageMsg.json');
    // The sample's correlationId is one millisecond before its timestamp; ours uses the same instant.
    (
      ((expected.core as Record<string, unknown>).body as Record<string, unknown>).msg as Record<
        string,
        unknown
      >
    ).correlationId = 'w_bridgebot0001-1731330123400';
    assert.equal(JSON.stringify(built), JSON.stringify(expected), 'same keys in the same order');
  });

  it('builds SendGroupChatMessageFromApiSysPubMsg exactly as the 3.x sample', () => {
    const built = sendGroupChatMessageFromApiSysPubMsg({
      meetingId: '183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1731330000000',
      userName: 'Expert Bob',
      message: 'Queue opened',
      now: 1731330200000,
    });
    assert.equal(JSON.stringify(built), JSON.stringify(sample('SendGroupChatMessageFromApiSysPubMsg.json')));
  });

  it('parses the handled samples of both versions and skips everything else unparsed', () => {
    for (const f of [
      'GroupChatMessageBroadcastEvtMsg.json',
      'GroupChatMessageBroadcastEvtMsg.bbb3.json',
      'UserJoinedMeetingEvtMsg.json',
      'UserJoinedMeetingEvtMsg.bbb3.json',
      'UserLeftMeetingEvtMsg.json',
      'MeetingEndedEvtMsg.json',
      'MeetingDestroyedEvtMsg.json',
      'ClearPublicChatHistoryPubMsg.json',
    ]) {
      const raw = readFileSync(SAMPLES + f, 'utf8');
      assert.equal(parseHandled(raw)?.name, f.split('.')[0], f);
    }
    for (const f of [
      'MeetingEndingEvtMsg.json',
      'SendGroupChatMessageMsg.json',
      'SendGroupChatMessageFromApiSysPubMsg.json',
    ]) {
      assert.equal(parseHandled(readFileSync(SAMPLES + f, 'utf8')), undefined, f);
    }
    assert.equal(parseHandled('{"envelope":{"name":"UserJoinedMeetingEvtMsg"'), undefined, 'truncated JSON');
    assert.equal(
      parseHandled(
        JSON.stringify({
          envelope: { name: 'UserJoinedMeetingEvtMsg' },
          core: { header: { name: 'Other' }, body: {} },
        }),
      ),
      undefined,
    );
  });
});
