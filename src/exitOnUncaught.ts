import type { Log } from './log.js';

/** sysexits.h EX_SOFTWARE: an internal error. Non-zero, so systemd's Restart=on-failure starts Parley again. */
export const EXIT_UNCAUGHT = 70;

export interface UncaughtDeps {
  log: Pick<Log, 'fatal'>;
  /** the orderly stop: streams told to reconnect elsewhere, XMPP sessions closed, the pool ended */
  stop: () => Promise<void>;
  exit: (code: number) => void;
  /** the orderly stop gets this long, then the process exits anyway (default 5 s) */
  graceMs?: number;
  /** where the 'uncaughtException' listener goes (the process; an emitter in tests) */
  on: (event: 'uncaughtException', listener: (err: Error, origin: string) => void) => unknown;
}

/**
 * What an uncaught exception does to the gateway: it is logged, then the process stops in order and exits
 * non-zero, so systemd (ansible's unit has Restart=on-failure) starts a fresh one and clients reconnect
 * (sessions are restored from the database at start). Never silent continuation: a throw inside an event
 * handler leaves that object (a socket, a parser, a session) in a state nothing checks any more.
 * The orderly stop is bounded: state may be broken, so it may hang; a second exception exits at once.
 */
export function exitOnUncaught(deps: UncaughtDeps): void {
  let failing = false;
  deps.on('uncaughtException', (err, origin) => {
    deps.log.fatal({ err, origin }, 'uncaught exception: stopping; the service manager restarts Parley');
    if (failing) return deps.exit(EXIT_UNCAUGHT);
    failing = true;
    const force = setTimeout(() => deps.exit(EXIT_UNCAUGHT), deps.graceMs ?? 5000);
    force.unref();
    void deps
      .stop()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(force);
        deps.exit(EXIT_UNCAUGHT);
      });
  });
}
