import assert from 'node:assert/strict';
import xml from '@xmpp/xml';
import {
  agentPresence,
  fastpathDate,
  joinQueueIq,
  notifyQueueDetailsPresence,
  notifyQueuePresence,
  offerIq,
  readAgentPresence,
  readMetadata,
  readNotifyQueue,
  readNotifyQueueDetails,
  readOffer,
  revokeIq,
} from '../../../src/workgroup/xep0142.js';
import {
  parseMembers,
  parseWorkgroupName,
  settingsFrom,
  workgroupFromJidOrName,
} from '../../../src/workgroup/settings.js';
import { NS } from '../../../src/xmpp/ns.js';

describe('workgroup XEP-0142 stanzas', () => {
  it('builds an offer that reads back with its id, session, timeout and metadata', () => {
    const iq = offerIq('help@workgroup.x', 'agent@x/r', {
      offerId: 'of1',
      requestId: 'rq1',
      userJid: 'u@x/y',
      timeoutSeconds: 1.5,
      metadata: { question: 'Why?', email: 'u@e' },
    });
    assert.equal(iq.attrs.type, 'set');
    const o = readOffer(iq.getChild('offer', NS.workgroup)!);
    assert.deepEqual(o, {
      offerId: 'of1',
      userJid: 'u@x/y',
      requestId: 'rq1',
      timeoutSeconds: 2,
      metadata: { question: 'Why?', email: 'u@e' },
      reason: undefined,
    });
  });

  it('reads a revoke reason', () => {
    const iq = revokeIq('help@workgroup.x', 'agent@x/r', {
      offerId: 'of1',
      userJid: 'u@x',
      reason: 'User canceled',
    });
    assert.equal(readOffer(iq.getChild('offer-revoke', NS.workgroup)!).reason, 'User canceled');
  });

  it('reads metadata from Fastpath values and from a submitted data form, first value winning', () => {
    const el = xml(
      'join-queue',
      { xmlns: NS.workgroup },
      xml(
        'metadata',
        { xmlns: NS.jiveWorkgroup },
        xml('value', { name: 'username' }, 'jane'),
        xml('value', { name: 'username' }, 'other'),
      ),
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'ignored')),
        xml('field', { var: 'question' }, xml('value', {}, 'Dose?')),
        xml('field', { var: 'username' }, xml('value', {}, 'form')),
      ),
    );
    assert.deepEqual(readMetadata(el), { username: 'jane', question: 'Dose?' });
    assert.deepEqual(
      readMetadata(joinQueueIq('help@workgroup.x', { email: 'a@b' }).getChild('join-queue', NS.workgroup)!),
      { email: 'a@b' },
    );
  });

  it('reads agent presence: show (unknown → available) and max-chats', () => {
    assert.deepEqual(readAgentPresence(agentPresence('help@workgroup.x', { show: 'dnd', maxChats: 2 })), {
      show: 'dnd',
      maxChats: 2,
    });
    assert.deepEqual(readAgentPresence(agentPresence('help@workgroup.x', { show: 'available' })), {
      show: 'available',
      maxChats: undefined,
    });
    assert.equal(readAgentPresence(xml('presence', {}, xml('show', {}, 'bogus'))).show, 'available');
  });

  it('round-trips queue summaries and details for agents', () => {
    const oldest = new Date('2025-05-01T09:00:00.123Z');
    const q = notifyQueuePresence('help@workgroup.x', 'a@x/r', {
      count: 2,
      oldest,
      averageWaitSeconds: 30,
      status: 'active',
    });
    assert.deepEqual(readNotifyQueue(q.getChild('notify-queue', NS.workgroup)!), {
      count: 2,
      time: 30,
      status: 'active',
      oldest: '20250501T09:00:00',
    });
    const d = notifyQueueDetailsPresence('help@workgroup.x', 'a@x/r', [
      { jid: 'u@x', userId: 'jane', position: 1, waitSeconds: 60, joined: oldest },
    ]);
    assert.deepEqual(readNotifyQueueDetails(d.getChild('notify-queue-details', NS.workgroup)!), [
      { jid: 'u@x', userId: 'jane', position: 1, time: 60, joinTime: '20250501T09:00:00' },
    ]);
    assert.equal(fastpathDate(oldest), '20250501T09:00:00');
  });
});

describe('workgroup settings', () => {
  it('takes workgroup names lower case and refuses others', () => {
    assert.equal(parseWorkgroupName(' Diabetes '), 'diabetes');
    assert.throws(() => parseWorkgroupName('a b'), /not a workgroup name/);
    assert.throws(
      () => parseWorkgroupName('visitor-help'),
      /not a workgroup name/,
      "visitor-… addresses are visitors' occupants",
    );
    assert.equal(workgroupFromJidOrName('help@workgroup.x', 'workgroup.x'), 'help');
    assert.throws(() => workgroupFromJidOrName('help@elsewhere', 'workgroup.x'), /not a workgroup of/);
  });

  it('turns seconds into milliseconds and empty texts into clearing', () => {
    assert.deepEqual(settingsFrom({ offerTimeout: 1.5, rejectionTimeout: 0, closingText: null }), {
      offerTimeoutMs: 1500,
      rejectionMemoryMs: 0,
      closingText: '',
    });
  });

  it('parses ofchat member lists (comma or space separated) and arrays into bare JIDs', () => {
    assert.deepEqual(parseMembers('bob, alice carol@other.org/phone,,bob', 'x.org'), [
      'alice@x.org',
      'bob@x.org',
      'carol@other.org',
    ]);
    assert.deepEqual(parseMembers(['Alice'], 'x.org'), ['alice@x.org']);
  });
});
