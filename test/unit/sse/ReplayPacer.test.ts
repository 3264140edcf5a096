import assert from 'node:assert/strict';
import { ReplayPacer } from '../../../src/sse/ReplayPacer.js';

/** A pacer whose samples are scripted and whose sampling runs by hand (sampleMs far in the future). */
function scripted(samples: number[], maxWaitMs = 100) {
  let i = 0;
  const slept: number[] = [];
  let sample: () => void = () => undefined;
  const realSetInterval = globalThis.setInterval;
  globalThis.setInterval = ((fn: () => void) => {
    sample = fn;
    return realSetInterval(() => undefined, 1 << 30);
  }) as typeof setInterval;
  try {
    const pacer = new ReplayPacer({
      sampleMs: 10,
      maxWaitMs,
      utilization: () => samples[Math.min(i++, samples.length - 1)]!,
      sleep: async (ms) => {
        slept.push(ms);
        sample(); // time passes: the next sample is taken
      },
    });
    return { pacer, slept, sample: () => sample() };
  } finally {
    globalThis.setInterval = realSetInterval;
  }
}

describe('ReplayPacer', () => {
  it('lets a page go at once while the event loop is quiet', async () => {
    const { pacer, slept, sample } = scripted([0.2]);
    sample();
    await pacer.turn();
    assert.deepEqual(slept, []);
    pacer.stop();
  });

  it('holds a page while the loop is busy, and lets it go once it is quiet again', async () => {
    const { pacer, slept, sample } = scripted([0.9, 0.95, 0.7, 0.3]);
    sample();
    assert.equal(pacer.busy, true);
    await pacer.turn();
    assert.deepEqual(slept, [10, 10, 10], 'waited three samples, until one under the threshold');
    assert.equal(pacer.busy, false);
    pacer.stop();
  });

  it('never holds a page longer than maxWaitMs: replays slow down, they do not stop', async () => {
    const { pacer, slept, sample } = scripted([1], 50);
    sample();
    await pacer.turn();
    assert.equal(
      slept.reduce((a, b) => a + b, 0),
      50,
    );
    assert.equal(pacer.busy, true, 'still busy, and the page went anyway');
    pacer.stop();
  });
});
