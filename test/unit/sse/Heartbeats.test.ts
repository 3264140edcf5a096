import assert from 'node:assert/strict';
import { Heartbeats, type HeartbeatTimers } from '../../../src/sse/Heartbeats.js';

/** Timers the test drives: the interval's ticks and the turns between chunks run when it says. */
class ManualTimers implements HeartbeatTimers {
  running: { fn: () => void; ms: number } | undefined;
  cleared = 0;
  turns: (() => void)[] = [];
  every(fn: () => void, ms: number) {
    this.running = { fn, ms };
    return {};
  }
  clear(): void {
    this.running = undefined;
    this.cleared++;
  }
  soon(fn: () => void): void {
    this.turns.push(fn);
  }
  /** the next turn and everything it schedules */
  drain(): void {
    while (this.turns.length) this.turns.shift()!();
  }
}

class Stream {
  beats = 0;
  beat(): void {
    this.beats++;
  }
}

describe('Heartbeats', () => {
  it('beats every stream once per interval, one slice per second of it', () => {
    const t = new ManualTimers();
    const hb = new Heartbeats<Stream>(15_000, t);
    const streams = Array.from({ length: 4500 }, () => new Stream());
    for (const s of streams) hb.add(s);
    assert.equal(t.running?.ms, 1000, 'a tick per second');
    const perTick: number[] = [];
    for (let k = 0; k < 15; k++) {
      const before = streams.reduce((n, s) => n + s.beats, 0);
      t.running!.fn();
      t.drain();
      perTick.push(streams.reduce((n, s) => n + s.beats, 0) - before);
    }
    assert.ok(
      streams.every((s) => s.beats === 1),
      'each stream beat exactly once in the interval',
    );
    assert.deepEqual(new Set(perTick), new Set([300]), 'spread evenly over the ticks');
  });

  it('writes at most a hundred beats per turn, the rest in the turns after', () => {
    const t = new ManualTimers();
    const hb = new Heartbeats<Stream>(1000, t); // one slice: every stream in each tick
    const streams = Array.from({ length: 250 }, () => new Stream());
    for (const s of streams) hb.add(s);
    t.running!.fn();
    assert.equal(streams.filter((s) => s.beats).length, 100, 'the first turn writes a hundred');
    t.turns.shift()!();
    assert.equal(streams.filter((s) => s.beats).length, 200);
    t.drain();
    assert.ok(streams.every((s) => s.beats === 1));
  });

  it('skips a stream closed between its slice being taken and its turn, and stops when none is left', () => {
    const t = new ManualTimers();
    const hb = new Heartbeats<Stream>(1000, t);
    const streams = Array.from({ length: 150 }, () => new Stream());
    for (const s of streams) hb.add(s);
    t.running!.fn();
    const late = streams[149]!;
    assert.equal(hb.delete(late), false);
    t.drain();
    assert.equal(late.beats, 0, 'a closed stream gets no write');
    for (const s of streams.slice(0, 148)) assert.equal(hb.delete(s), false);
    assert.equal(hb.delete(streams[148]!), true, 'the last one out says so');
    assert.equal(hb.delete(streams[148]!), false, 'removing it again changes nothing');
    assert.equal(t.running, undefined);
    assert.equal(t.cleared, 1);
  });
});
