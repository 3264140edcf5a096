import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Lane } from '../../../src/workgroup/lane.js';
import { silentLog } from './fakes.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('workgroup Lane', () => {
  it('runs changes one at a time, in arrival order, past a failed one', async () => {
    const lane = new Lane(silentLog());
    const seen: string[] = [];
    let release!: () => void;
    const first = lane.serial(async () => {
      seen.push('first:start');
      await new Promise<void>((r) => (release = r));
      seen.push('first:end');
    });
    const failing = lane.serial(async () => {
      seen.push('failing');
      throw new Error('boom');
    });
    const third = lane.serial(async () => {
      seen.push('third');
      return 3;
    });
    await tick();
    assert.deepEqual(seen, ['first:start']);
    release();
    await first;
    await assert.rejects(failing, /boom/);
    assert.equal(await third, 3);
    assert.deepEqual(seen, ['first:start', 'first:end', 'failing', 'third']);
  });

  it('drains work queued while draining, too', async () => {
    const lane = new Lane(silentLog());
    const seen: string[] = [];
    void lane.serial(async () => {
      await tick();
      void lane.serial(async () => {
        await tick();
        seen.push('queued later');
      });
      seen.push('first');
    });
    await lane.drain();
    assert.deepEqual(seen, ['first', 'queued later']);
  });

  it('logs a background failure instead of throwing it', async () => {
    const lines: { msg: string }[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const lane = new Lane(log);
    lane.background(Promise.reject(new Error('db down')), 'offer timeout');
    await tick();
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['workgroup offer timeout failed'],
    );
  });
});
