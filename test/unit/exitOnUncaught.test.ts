import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { EXIT_UNCAUGHT, exitOnUncaught } from '../../src/exitOnUncaught.js';

function harness(stop: () => Promise<void>, graceMs = 50) {
  const proc = new EventEmitter();
  const logged: unknown[] = [];
  const exits: number[] = [];
  let exited!: () => void;
  const firstExit = new Promise<void>((r) => (exited = r));
  exitOnUncaught({
    log: { fatal: ((obj: unknown) => logged.push(obj)) as never },
    stop,
    exit: (code) => {
      exits.push(code);
      exited();
    },
    graceMs,
    on: (event, listener) => proc.on(event, listener),
  });
  return { proc, logged, exits, firstExit };
}

describe('exitOnUncaught', () => {
  it('logs the exception, stops in order, then exits non-zero for systemd to restart', async () => {
    let stopped = false;
    const h = harness(async () => {
      stopped = true;
    });
    h.proc.emit('uncaughtException', new TypeError('boom'), 'uncaughtException');
    await h.firstExit;
    assert.equal(stopped, true);
    assert.deepEqual(h.exits, [EXIT_UNCAUGHT]);
    assert.equal(((h.logged[0] as { err: Error }).err as Error).message, 'boom');
  });

  it('exits anyway when the orderly stop hangs, and at once on a second exception', async () => {
    const h = harness(() => new Promise<void>(() => undefined), 30);
    h.proc.emit('uncaughtException', new Error('one'), 'uncaughtException');
    h.proc.emit('uncaughtException', new Error('two'), 'uncaughtException');
    assert.deepEqual(h.exits, [EXIT_UNCAUGHT], 'the second exits immediately');
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(h.exits, [EXIT_UNCAUGHT, EXIT_UNCAUGHT], 'the hung stop is cut short');
  });
});
