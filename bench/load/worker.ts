import { historyQueries } from './history.js';
import { fleetClose, fleetLogin, fleetProbe, fleetStreams, roomFanout, roomJoin } from './fleet.js';
import { parleyDriver, rawXmppDriver, sendMessageDriver, modRestDriver, type Driver } from './drivers.js';
import { leanXmppDriver } from './lean.js';
import { flood, floodClose } from './flood.js';
import { probe, runStep, type StepSpec } from './rate.js';

/**
 * A load-generator process (forked by bench/lib/worker.ts). Operations arrive over IPC as
 * { id, op, args } and are answered with { id, ok, result | error }; state (drivers, streams) lives
 * here between calls, so the gateway's measurements can be taken while it stays connected.
 *
 * Overload must be measured, not crash the generator: an exception thrown from a socket callback
 * (e.g. @xmpp/connection writing to a parser it already detached, when a server falls behind and a
 * client is stopped with data still arriving) is caught here, counted, and reported with the step
 * it happened in, which is then not sustained.
 */

const name = process.argv[2] ?? 'worker';
const drivers = new Map<string, Driver>();
const report = (msg: string): void => {
  if (process.connected) process.send?.({ progress: msg });
};

let incidentCount = 0;
let lastIncident: string | undefined;
function incident(kind: string, err: unknown): void {
  incidentCount++;
  lastIncident = `${kind}: ${String((err as Error)?.stack ?? err)
    .split('\n')
    .slice(0, 3)
    .join(' | ')
    .slice(0, 500)}`;
  // one line per kind of failure is enough on the console; all of them are counted
  if (incidentCount <= 3 || incidentCount % 1000 === 0)
    report(`survived ${kind} #${incidentCount}: ${lastIncident}`);
}
process.on('uncaughtException', (err) => incident('uncaught exception', err));
process.on('unhandledRejection', (err) => incident('unhandled rejection', err));

/** Runs an operation and says which generator errors it survived meanwhile. */
async function withIncidents<T>(fn: () => Promise<T>): Promise<T> {
  const before = incidentCount;
  const result = await fn();
  const n = incidentCount - before;
  if (n > 0 && result && typeof result === 'object')
    Object.assign(result, { incidents: { count: n, last: lastIncident } });
  return result;
}

type Args = Record<string, unknown>;
const ops: Record<string, (a: Args) => Promise<unknown>> = {
  async driver(a) {
    const id = String(a.id);
    const cfg = a.config as never;
    const d =
      a.kind === 'raw-xmpp'
        ? await rawXmppDriver(cfg)
        : a.kind === 'lean-xmpp'
          ? await leanXmppDriver(cfg)
          : a.kind === 'parley'
            ? await parleyDriver(cfg)
            : a.kind === 'send_message'
              ? await sendMessageDriver(cfg)
              : a.kind === 'mod_rest'
                ? await modRestDriver(cfg)
                : undefined;
    if (!d) throw new Error(`unknown driver kind ${String(a.kind)}`);
    drivers.set(id, d);
    return { id, kind: d.kind };
  },
  step: (a) => withIncidents(() => runStep(get(a.id), a.spec as StepSpec)),
  probe: (a) => withIncidents(() => probe(get(a.id), Number(a.window), Number(a.durationMs))),
  async closeDriver(a) {
    const d = drivers.get(String(a.id));
    drivers.delete(String(a.id));
    await d?.close();
    return true;
  },
  fleetLogin: (a) => fleetLogin(a as never, report),
  fleetStreams: (a) => fleetStreams(a as never, report),
  fleetProbe: (a) => withIncidents(() => fleetProbe(a as never)),
  fleetClose: () => fleetClose(),
  flood: (a) => withIncidents(() => flood(a as never)),
  floodClose: async () => floodClose(),
  roomJoin: (a) => roomJoin(a as never, report),
  roomFanout: (a) => roomFanout(a as never),
  history: (a) => historyQueries(a as never),
  async incidents() {
    return { count: incidentCount, last: lastIncident };
  },
};

function get(id: unknown): Driver {
  const d = drivers.get(String(id));
  if (!d) throw new Error(`no driver ${String(id)}`);
  return d;
}

function answer(m: unknown): void {
  // the runner may be gone (or have given up on this call): nothing to answer then
  if (process.connected) process.send?.(m, undefined, undefined, () => undefined);
}

process.on('message', (m: { id: number; op: string; args?: Args }) => {
  if (m.op === 'exit') {
    void Promise.allSettled([...drivers.values()].map((d) => d.close()))
      .then(() => fleetClose())
      .finally(() => process.exit(0));
    return;
  }
  const fn = ops[m.op];
  if (!fn) {
    answer({ id: m.id, ok: false, error: `unknown op ${m.op}` });
    return;
  }
  fn(m.args ?? {}).then(
    (result) => answer({ id: m.id, ok: true, result }),
    (err: unknown) => answer({ id: m.id, ok: false, error: (err as Error)?.stack ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ hello: name });
