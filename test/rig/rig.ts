import type { RunningPostgres } from '../../tools/servers/postgres.js';
import type { RunningRedis } from '../../tools/servers/redis.js';
import type { RunningXmppServer } from '../../tools/servers/xmppServer.js';

/**
 * The servers shared by every test file, started once by the mocha global setup (hooks.ts).
 * The XMPP server is Prosody or ejabberd (PARLEY_TEST_SERVER, see serverKind.ts): tests use `rig.xmpp`
 * and run unchanged on both.
 *
 * The state lives on globalThis rather than in a module variable: mocha loads hooks.ts through
 * require() while spec files are import()ed. With tsx today both share one module instance, but
 * should a loader change ever duplicate this module, specs must not see an empty copy.
 */
export interface Rig {
  xmpp: RunningXmppServer;
  postgres: RunningPostgres;
  redis: RunningRedis;
  tmp: string;
  templateDb: string;
}

const KEY = Symbol.for('parley.test.rig');
type Holder = { [KEY]?: Rig };

export function getRig(): Rig {
  const r = (globalThis as Holder)[KEY];
  if (!r) {
    throw new Error(
      'test rig not started: run the tests with `npx mocha` from the repo root ' +
        '(.mocharc.json requires test/rig/hooks.ts, whose mochaGlobalSetup starts the servers)',
    );
  }
  return r;
}

export function setRig(r: Rig | undefined): void {
  (globalThis as Holder)[KEY] = r;
}

/** Same as getRig(), field by field, so specs can write `rig.xmpp` at use time. */
export const rig: Rig & {
  /** @deprecated the XMPP server whichever it is (Prosody or ejabberd): use `rig.xmpp` */
  readonly prosody: RunningXmppServer;
} = {
  get xmpp() {
    return getRig().xmpp;
  },
  // The name tests used before the rig could run ejabberd: kept so they run on both servers unchanged.
  get prosody() {
    return getRig().xmpp;
  },
  get postgres() {
    return getRig().postgres;
  },
  get redis() {
    return getRig().redis;
  },
  get tmp() {
    return getRig().tmp;
  },
  get templateDb() {
    return getRig().templateDb;
  },
};
