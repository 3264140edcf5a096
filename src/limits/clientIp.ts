import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The client address of the request being served (http/clientAddress.ts decides it), carried per request
 * like the log context, so the password checks deep in the session code can key their throttle on the
 * caller's address without every route passing it down.
 */
const current = new AsyncLocalStorage<{ ip: string }>();

export function currentClientIp(): string | undefined {
  return current.getStore()?.ip;
}

export function withClientIp<T>(ip: string, run: () => T): T {
  return current.run({ ip }, run);
}
