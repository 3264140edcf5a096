import assert from 'node:assert/strict';
import { ServerDelay } from '../../../../src/xmpp/client/ServerDelay.js';

describe('ServerDelay (the XMPP server delay, in time)', () => {
  let now: number;
  let d: ServerDelay;
  beforeEach(() => {
    now = 1000;
    d = new ServerDelay(() => now);
  });

  it('is the age of the oldest request the server has not answered, and 0 when it owes nothing', () => {
    assert.equal(d.ms(), 0);
    const first = d.request();
    now += 100;
    const second = d.request();
    now += 300;
    assert.equal(d.ms(), 400);
    assert.equal(d.answered(first), 400, 'an answer gives its round trip');
    assert.equal(d.ms(), 300, 'the next one is now the oldest');
    d.answered(second);
    assert.equal(d.ms(), 0);
    now += 3_600_000;
    assert.equal(d.ms(), 0, 'nothing to decay: an hour of quiet is no delay');
  });

  it('leaves out a request older than one answered since (one slow or dead link is not the server)', () => {
    const dead = d.request();
    now += 50;
    const other = d.request();
    now += 1000;
    assert.equal(d.ms(), 1050, 'until another answer arrives, it could be the server');
    d.answered(other);
    assert.equal(d.ms(), 0);
    assert.equal(d.age(dead), 1050, 'its own session still sees how long it waits');
    now += 10;
    const later = d.request();
    now += 20;
    assert.equal(d.ms(), 20, 'requests sent after the last answer count again');
    d.dropped(later);
    d.dropped(dead);
    assert.equal(d.ms(), 0);
  });

  it('forgets requests whose connection ended: they will never be answered', () => {
    const r = d.request();
    now += 5000;
    d.dropped(r);
    assert.equal(d.ms(), 0);
  });

  it('keeps counting while the server answers nothing at all (a stalled server)', () => {
    for (let i = 0; i < 5; i++) {
      d.request();
      now += 100;
    }
    assert.equal(d.ms(), 500);
    now += 10_000;
    assert.equal(d.ms(), 10_500);
  });

  it('stays exact over many requests (the queue is trimmed as answers come)', () => {
    const open = [];
    for (let i = 0; i < 5000; i++) {
      open.push(d.request());
      now += 1;
      if (open.length > 3) d.answered(open.shift()!);
    }
    assert.equal(d.ms(), 3);
    for (const r of open) d.answered(r);
    assert.equal(d.ms(), 0);
  });

  it('tells a pause (nothing answered for half its delay) from a backlog (answers arriving, late)', () => {
    const r1 = d.request();
    now += 100;
    assert.ok(d.stalled(), 'never answered anything: silent since its oldest request');
    d.answered(r1);
    assert.ok(!d.stalled(), 'owes nothing');
    const r2 = d.request();
    now += 10;
    const r3 = d.request();
    now += 300;
    d.answered(r2);
    assert.ok(!d.stalled(), 'answered just now, r3 owed for 300 ms: behind, not paused');
    now += 298;
    assert.ok(!d.stalled(), 'nothing for 298 ms of a 598 ms delay');
    now += 3;
    assert.ok(d.stalled(), 'nothing for 301 ms of a 601 ms delay');
    d.answered(r3);
  });
});
