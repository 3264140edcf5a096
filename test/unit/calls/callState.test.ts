import assert from 'node:assert/strict';
import { endAction, sideOf, step, type CallInput } from '../../../src/calls/callState.js';
import { inputFor } from '../../../src/calls/CallService.js';
import type { Call, CallState } from '../../../src/calls/types.js';

const change = (s: ReturnType<typeof step>) =>
  s.kind === 'change' ? { state: s.state, event: s.event, outcome: s.outcome } : s.kind;

describe('step (the call state machine)', () => {
  it('rings, then accepts, then completes on finish', () => {
    assert.deepEqual(change(step('proposed', { action: 'ringing', side: 'callee' })), {
      state: 'ringing',
      event: 'ringing',
      outcome: undefined,
    });
    const accepted = step('ringing', { action: 'proceed', side: 'callee' });
    assert.deepEqual(change(accepted), { state: 'accepted', event: 'accepted', outcome: undefined });
    assert.equal(accepted.kind === 'change' && accepted.answered, true, 'stamps the answer time');
    assert.deepEqual(
      change(step('accepted', { action: 'finish', side: 'caller', reason: { condition: 'success' } })),
      { state: 'ended', event: 'ended', outcome: 'completed' },
    );
  });

  it('accepts straight from proposed (a device that never rang)', () => {
    assert.deepEqual(change(step('proposed', { action: 'proceed', side: 'callee' })), {
      state: 'accepted',
      event: 'accepted',
      outcome: undefined,
    });
  });

  it("declines, and tells a caller's cancel from a missed call", () => {
    assert.deepEqual(
      change(step('ringing', { action: 'reject', side: 'callee', reason: { condition: 'busy' } })),
      { state: 'ended', event: 'declined', outcome: 'declined' },
    );
    assert.deepEqual(
      change(step('ringing', { action: 'retract', side: 'caller', reason: { condition: 'cancel' } })),
      { state: 'ended', event: 'ended', outcome: 'cancelled' },
    );
    assert.deepEqual(
      change(step('proposed', { action: 'retract', side: 'caller', reason: { condition: 'timeout' } })),
      { state: 'ended', event: 'ended', outcome: 'missed' },
    );
    assert.deepEqual(change(step('proposed', { action: 'timeout', side: 'callee' })), {
      state: 'ended',
      event: 'ended',
      outcome: 'missed',
    });
    assert.deepEqual(change(step('proposed', { action: 'error', side: 'callee' })), {
      state: 'ended',
      event: 'ended',
      outcome: 'failed',
    });
  });

  it('counts a finish with a failure condition as failed, and a finish before any answer as cancelled', () => {
    assert.deepEqual(
      change(
        step('accepted', { action: 'finish', side: 'callee', reason: { condition: 'connectivity-error' } }),
      ),
      { state: 'ended', event: 'ended', outcome: 'failed' },
    );
    assert.deepEqual(change(step('ringing', { action: 'finish', side: 'caller' })), {
      state: 'ended',
      event: 'ended',
      outcome: 'cancelled',
    });
  });

  it('treats repeats as no change: a second ringing device, a second answer', () => {
    assert.equal(step('ringing', { action: 'ringing', side: 'callee' }).kind, 'same');
    assert.equal(step('accepted', { action: 'proceed', side: 'callee' }).kind, 'same');
    assert.equal(step('accepted', { action: 'ringing', side: 'callee' }).kind, 'same');
  });

  const invalid: [CallState, CallInput][] = [
    ['proposed', { action: 'ringing', side: 'caller' }],
    ['proposed', { action: 'proceed', side: 'caller' }],
    ['proposed', { action: 'reject', side: 'caller' }],
    ['proposed', { action: 'retract', side: 'callee' }],
    ['accepted', { action: 'reject', side: 'callee' }],
    ['accepted', { action: 'retract', side: 'caller' }],
    ['accepted', { action: 'timeout', side: 'caller' }],
    ['ended', { action: 'proceed', side: 'callee' }],
    ['ended', { action: 'finish', side: 'caller' }],
    ['ended', { action: 'timeout', side: 'caller' }],
  ];
  for (const [state, input] of invalid) {
    it(`refuses ${input.action} by the ${input.side} in state ${state}`, () =>
      assert.equal(step(state, input).kind, 'invalid'));
  }
});

describe('sideOf and endAction', () => {
  it("maps who acted to caller or callee from the owner's direction", () => {
    assert.equal(sideOf('out', 'self'), 'caller');
    assert.equal(sideOf('out', 'peer'), 'callee');
    assert.equal(sideOf('in', 'self'), 'callee');
    assert.equal(sideOf('in', 'peer'), 'caller');
  });
  it('ends an accepted call with finish; before that the caller retracts and the callee declines', () => {
    assert.equal(endAction('accepted', 'callee'), 'finish');
    assert.equal(endAction('ringing', 'caller'), 'retract');
    assert.equal(endAction('proposed', 'callee'), 'reject');
  });
});

describe('inputFor (REST commands)', () => {
  const call = (direction: 'in' | 'out', state: CallState): Call => ({
    owner: 'alice',
    callId: 'c1',
    direction,
    caller: 'a@x/1',
    callee: 'b@x',
    peer: 'b@x',
    options: { audioOnly: false, autoAccept: false },
    state,
    outcome: null,
    reason: null,
    condition: null,
    answeredBy: null,
    createdAt: new Date(),
    answeredAt: null,
    endedAt: null,
  });
  it("maps decline to reject with the seed's declineReason as text and a guessed condition", () => {
    assert.deepEqual(
      inputFor(call('in', 'ringing'), { kind: 'decline', declineReason: 'camera unavailable' }),
      { action: 'reject', side: 'callee', reason: { condition: 'media-error', text: 'camera unavailable' } },
    );
  });
  it('maps end to retract (cancel), reject (decline) or finish (success) with the given text', () => {
    assert.deepEqual(inputFor(call('out', 'proposed'), { kind: 'end' }), {
      action: 'retract',
      side: 'caller',
      reason: { condition: 'cancel' },
    });
    assert.deepEqual(inputFor(call('in', 'ringing'), { kind: 'end' }), {
      action: 'reject',
      side: 'callee',
      reason: { condition: 'decline' },
    });
    assert.deepEqual(inputFor(call('in', 'accepted'), { kind: 'end', reason: 'bye' }), {
      action: 'finish',
      side: 'callee',
      reason: { condition: 'success', text: 'bye' },
    });
  });
});
