import assert from 'node:assert/strict';
import { Thumbnailer } from '../../../src/attachments/thumbnails.js';

describe('Thumbnailer', () => {
  it('makes at most `concurrency` thumbnails at once; the others wait their turn and all finish', async () => {
    let running = 0;
    let most = 0;
    const t = new Thumbnailer({
      concurrency: 2,
      maxPixels: 1000,
      make: async (path) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
        return Buffer.from(path);
      },
    });
    const made = await Promise.all(Array.from({ length: 7 }, (_, i) => t.make(`p${i}`)));
    assert.equal(most, 2);
    assert.deepEqual(
      made.map((b) => b?.toString()),
      ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'],
    );
    assert.equal(t.running, 0);
  });

  it('frees its place when making one fails', async () => {
    const t = new Thumbnailer({
      concurrency: 1,
      maxPixels: 1000,
      make: async (path) => {
        if (path === 'bad') throw new Error('broken');
        return Buffer.from(path);
      },
    });
    await assert.rejects(t.make('bad'));
    assert.equal((await t.make('good'))?.toString(), 'good');
  });
});
