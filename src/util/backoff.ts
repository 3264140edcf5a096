/**
 * Exponential backoff with "equal jitter", capped: attempt 0 waits 0.5–1 s, attempt 1 1–2 s, attempt 2
 * 2–4 s … up to maxSeconds. Shared by everything that retries (XMPP reconnects, Redis reconnects,
 * callback deliveries); the jitter keeps many instances from retrying in step.
 */
export function backoffDelay(attempt: number, maxSeconds: number, random = Math.random): number {
  const ceiling = Math.min(maxSeconds * 1000, 1000 * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
