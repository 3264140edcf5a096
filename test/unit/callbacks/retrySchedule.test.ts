import assert from 'node:assert/strict';
import { nextStep } from '../../../src/callbacks/retrySchedule.js';

describe('callback retry schedule', () => {
  const now = new Date('2025-05-01T10:00:00Z');
  const later = (s: number) => new Date(now.getTime() + s * 1000);

  it('backs off exponentially with jitter, between half and all of 1 s, 2 s, 4 s … capped', () => {
    const delays = (random: number) =>
      [1, 2, 3, 4, 5, 9, 20].map((attempts) => {
        const s = nextStep({
          now,
          giveUpAt: later(86_400),
          attempts,
          backoffMaxSeconds: 30,
          random: () => random,
        });
        assert.equal(s.state, 'pending');
        return s.state === 'pending' ? (s.at.getTime() - now.getTime()) / 1000 : NaN;
      });
    assert.deepEqual(delays(0), [0.5, 1, 2, 4, 8, 15, 15]);
    assert.deepEqual(delays(0.999999).map(Math.round), [1, 2, 4, 8, 16, 30, 30]);
  });

  it('makes one last attempt at the horizon, then gives up', () => {
    const s = nextStep({ now, giveUpAt: later(3), attempts: 5, backoffMaxSeconds: 300, random: () => 0.5 });
    assert.deepEqual(s, { state: 'pending', at: later(3) });
    assert.deepEqual(nextStep({ now: later(3), giveUpAt: later(3), attempts: 6, backoffMaxSeconds: 300 }), {
      state: 'dead',
    });
  });
});
