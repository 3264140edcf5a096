import assert from 'node:assert/strict';
import { TransitDelay } from '../../../../src/xmpp/client/TransitDelay.js';

describe('TransitDelay (how long messages between this instance’s users take)', () => {
  let now: number;
  let t: TransitDelay;
  beforeEach(() => {
    now = 1000;
    t = new TransitDelay(() => now, 4);
  });

  it('smooths the transits of the messages that arrived, and is 0 once nothing is in flight', () => {
    assert.equal(t.ms(), 0);
    t.sent('a');
    t.sent('b');
    now += 400;
    assert.equal(t.arrived('a'), 400);
    assert.equal(t.ms(), 400, 'the first arrival after a quiet spell is the estimate');
    now += 200;
    assert.equal(t.arrived('b'), 600);
    assert.equal(t.ms(), 0, 'nothing in flight: a drained backlog takes sends at once');
    t.sent('c');
    now += 100;
    assert.equal(t.ms(), 450, 'in flight again: the estimate (400 moved a quarter towards 600)');
    assert.equal(t.arrived('unknown'), undefined, 'a message this instance did not time');
  });

  it('forgets the estimate when nothing arrived for a second, so a lost message cannot keep it up', () => {
    t.sent('a');
    now += 300;
    t.arrived('a');
    t.sent('lost');
    now += 999;
    assert.equal(t.ms(), 300);
    now += 2;
    assert.equal(t.ms(), 0);
  });

  it('no longer counts a message overtaken by a later one, nor one older than 10 s', () => {
    t.sent('lost');
    now += 10;
    t.sent('next');
    now += 500;
    t.arrived('next');
    assert.equal(t.ms(), 0, 'the one sent before it is lost or about to arrive: nothing in flight');
    assert.equal(t.inFlight, 0);
    t.sent('old');
    now += 10_001;
    t.ms();
    assert.equal(t.inFlight, 0, 'taken as lost');
  });

  it('holds at most maxInFlight messages, dropping the oldest', () => {
    for (const id of ['1', '2', '3', '4', '5']) t.sent(id);
    assert.equal(t.inFlight, 4);
    assert.equal(t.arrived('1'), undefined);
    assert.equal(t.arrived('5'), 0);
  });
});
