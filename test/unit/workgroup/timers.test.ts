import assert from 'node:assert/strict';
import { TimerSet } from '../../../src/workgroup/timers.js';
import { FakeClock } from './fakes.js';

describe('workgroup TimerSet', () => {
  it('fires a timer at its deadline, not before', () => {
    const clock = new FakeClock();
    const timers = new TimerSet(clock);
    const fired: string[] = [];
    timers.set('offer:1', clock.now() + 20_000, () => fired.push('offer:1'));
    clock.advance(19_999);
    assert.deepEqual(fired, []);
    assert.ok(timers.has('offer:1'));
    clock.advance(1);
    assert.deepEqual(fired, ['offer:1']);
    assert.equal(timers.size, 0);
  });

  it('replaces a timer of the same key, and clear() cancels it', () => {
    const clock = new FakeClock();
    const timers = new TimerSet(clock);
    const fired: number[] = [];
    timers.set('k', clock.now() + 10, () => fired.push(1));
    timers.set('k', clock.now() + 20, () => fired.push(2));
    clock.advance(30);
    assert.deepEqual(fired, [2]);
    timers.set('k', clock.now() + 10, () => fired.push(3));
    timers.clear('k');
    clock.advance(30);
    assert.deepEqual(fired, [2]);
  });

  it('fires a deadline already in the past on the next turn (restored from the database)', () => {
    const clock = new FakeClock();
    const timers = new TimerSet(clock);
    let fired = false;
    timers.set('request:r1', clock.now() - 60_000, () => {
      fired = true;
    });
    assert.equal(fired, false, 'never synchronously');
    clock.advance(0);
    assert.equal(fired, true);
  });

  it('setEarliest keeps the soonest wake-up', () => {
    const clock = new FakeClock();
    const timers = new TimerSet(clock);
    const fired: number[] = [];
    timers.setEarliest('wake', clock.now() + 50, () => fired.push(50));
    timers.setEarliest('wake', clock.now() + 80, () => fired.push(80));
    assert.equal(timers.deadline('wake'), clock.now() + 50);
    timers.setEarliest('wake', clock.now() + 20, () => fired.push(20));
    clock.advance(100);
    assert.deepEqual(fired, [20]);
  });

  it('re-arms deadlines beyond the platform timer limit', () => {
    const clock = new FakeClock();
    const timers = new TimerSet(clock);
    let fired = false;
    const far = clock.now() + 2 ** 31 + 5_000;
    timers.set('far', far, () => {
      fired = true;
    });
    clock.advance(2 ** 31 - 1);
    assert.equal(fired, false);
    assert.ok(timers.has('far'), 're-armed after the capped delay');
    clock.advance(10_000);
    assert.equal(fired, true);
  });

  it('clearAll cancels everything', () => {
    const clock = new FakeClock();
    const timers = new TimerSet(clock);
    let n = 0;
    for (const k of ['a', 'b', 'c']) timers.set(k, clock.now() + 5, () => n++);
    timers.clearAll();
    clock.advance(10);
    assert.equal(n, 0);
    assert.equal(clock.pending.size, 0);
  });
});
