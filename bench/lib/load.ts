import os from 'node:os';
import { progress } from './progress.js';

/**
 * Figures from a loaded machine are not comparable with a quiet run's (raw XMPP measured 270 msg/s on
 * one day and 2,100 on another), so every run and scenario records the load average, and a run that
 * starts above the limit first waits (bounded) for it to drop, then says whether it did.
 */

export type LoadAvg = [number, number, number];

export function loadAvg(): LoadAvg {
  const [a = 0, b = 0, c = 0] = os.loadavg().map((x) => Math.round(x * 100) / 100);
  return [a, b, c];
}

export interface LoadCheck {
  /** 1/5/15-minute load average when the bench started */
  atLaunch: LoadAvg;
  /** when the measurements started (after any wait) */
  atStart: LoadAvg;
  maxLoad: number;
  waitedS: number;
  /** false when the 1-minute load was still above maxLoad at the start: figures not comparable */
  comparable: boolean;
  note?: string;
}

export async function waitForQuietMachine(maxLoad: number, maxWaitS: number): Promise<LoadCheck> {
  const atLaunch = loadAvg();
  const t0 = performance.now();
  let now = atLaunch;
  if (now[0] > maxLoad && maxWaitS > 0) {
    progress(
      `1-minute load average ${now[0]} > ${maxLoad}: waiting up to ${maxWaitS} s for the machine to quieten`,
    );
    while (now[0] > maxLoad && performance.now() - t0 < maxWaitS * 1000) {
      await new Promise((r) => setTimeout(r, 5000));
      now = loadAvg();
    }
  }
  const waitedS = Math.round((performance.now() - t0) / 1000);
  const comparable = now[0] <= maxLoad;
  const note = comparable
    ? waitedS > 0
      ? `load average ${atLaunch[0]} at launch; waited ${waitedS} s until it was ${now[0]} (≤ ${maxLoad})`
      : undefined
    : `the machine was loaded: 1-minute load average ${atLaunch[0]} at launch, still ${now[0]} after waiting ${waitedS} s (limit ${maxLoad}): the figures of this run are NOT comparable with a quiet run's`;
  if (note) progress(note);
  return { atLaunch, atStart: now, maxLoad, waitedS, comparable, ...(note ? { note } : {}) };
}
