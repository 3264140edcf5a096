import assert from 'node:assert/strict';
import { ReplayPacer } from '../../../src/sse/ReplayPacer.js';

/** A pacer on a fake clock whose samples are scripted; sleeping moves the clock. */
function scripted(samples: number[], maxWaitMs = 100) {
  let i = 0;
  let now = 1000;
  const slept: number[] = [];
  const taken: number[] = [];
  const pacer = new ReplayPacer({
    sampleMs: 10,
    maxWaitMs,
    now: () => now,
    utilization: () => {
      taken.push(now);
      return samples[Math.min(i++, samples.length - 1)]!;
    },
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  });
  return { pacer, slept, taken, tick: (ms: number) => (now += ms) };
}

describe('ReplayPacer', () => {
  it('lets a page go at once while the event loop is quiet', async () => {
    const { pacer, slept } = scripted([0.2]);
    await pacer.turn();
    assert.deepEqual(slept, []);
  });

  it('holds a page while the loop is busy, and lets it go once it is quiet again', async () => {
    const { pacer, slept } = scripted([0.9, 0.95, 0.7, 0.3]);
    await pacer.turn();
    assert.deepEqual(slept, [10, 10, 10], 'waited three samples, until one under the threshold');
    assert.equal(pacer.busy, false);
  });

  it('never holds a page longer than maxWaitMs: replays slow down, they do not stop', async () => {
    const { pacer, slept } = scripted([1], 50);
    await pacer.turn();
    assert.equal(
      slept.reduce((a, b) => a + b, 0),
      50,
    );
    assert.equal(pacer.busy, true, 'still busy, and the page went anyway');
  });

  it('samples only when asked, at most once per sample period', async () => {
    const { pacer, taken, tick } = scripted([0.2]);
    assert.deepEqual(taken, [], 'nothing sampled while nothing replays');
    await pacer.turn();
    await pacer.turn();
    tick(5);
    await pacer.turn();
    assert.equal(taken.length, 1, 'pages within one period share its sample');
    tick(10);
    await pacer.turn();
    assert.equal(taken.length, 2);
  });
});
