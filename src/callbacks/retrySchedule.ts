import { backoffDelay } from '../util/backoff.js';

/**
 * What happens to a callback after a failed attempt: another attempt after an exponentially growing,
 * jittered delay (1 s, 2 s, 4 s … capped at `backoffMaxSeconds`, the same curve as XMPP reconnects),
 * with one last attempt exactly at the horizon; a failure at or after the horizon dead-letters it.
 */
export type NextStep = { state: 'pending'; at: Date } | { state: 'dead' };

export function nextStep(o: {
  now: Date;
  giveUpAt: Date;
  attempts: number;
  backoffMaxSeconds: number;
  random?: () => number;
}): NextStep {
  if (o.now.getTime() >= o.giveUpAt.getTime()) return { state: 'dead' };
  const delay = backoffDelay(Math.max(0, o.attempts - 1), o.backoffMaxSeconds, o.random);
  return { state: 'pending', at: new Date(Math.min(o.now.getTime() + delay, o.giveUpAt.getTime())) };
}
