import assert from 'node:assert/strict';
import { matches, type MonitorItem } from '../../../src/moderation/MessageMonitor.js';

const item = (
  over: Partial<MonitorItem['match']> = {},
  event: MonitorItem['event'] = 'chatapi.monitor',
): MonitorItem => ({
  event,
  payload: {},
  match: { users: ['a@x', 'b@x'], room: null, hasAttachments: false, ...over },
});

describe('moderation MessageMonitor matches()', () => {
  it('passes everything without filters', () => assert.equal(matches(item(), {}), true));
  it('filters by user (sender or recipient)', () => {
    assert.equal(matches(item(), { user: 'b@x' }), true);
    assert.equal(matches(item(), { user: 'c@x' }), false);
  });
  it('filters by room', () => {
    assert.equal(matches(item({ room: 'r@muc' }), { room: 'r@muc' }), true);
    assert.equal(matches(item(), { room: 'r@muc' }), false);
  });
  it('filters by attachments, but never hides complaints for it', () => {
    assert.equal(matches(item({ hasAttachments: true }), { hasAttachments: true }), true);
    assert.equal(matches(item(), { hasAttachments: true }), false);
    assert.equal(matches(item({}, 'chatapi.report'), { hasAttachments: true }), true);
  });
});
