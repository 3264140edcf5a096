import { setFlagsFromString } from 'node:v8';

/**
 * V8's memory reducer runs when a busy process goes quiet: after a login storm or a busy hour it marks
 * and compacts the whole heap up to three times in a row to shrink it. With thousands of sessions on the
 * heap (~200 MB) each pass cost ~230 ms of the main thread plus the marking threads, and after the first
 * the next two freed about 1 MB each (bench/JOURNAL.md, "The gateway at rest"). One pass keeps the shrink.
 * Set from here rather than on the command line so every way of starting Parley gets it (npm start, the
 * systemd unit, the bench, the tests); V8 reads it each time the reducer decides.
 */
export function tuneGarbageCollector(): void {
  setFlagsFromString('--memory-reducer-single-gc');
}
