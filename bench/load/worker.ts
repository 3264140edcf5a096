import { historyQueries } from './history.js';
import { fleetClose, fleetLogin, fleetProbe, fleetStreams, roomFanout, roomJoin } from './fleet.js';
import { parleyDriver, rawXmppDriver, sendMessageDriver, type Driver } from './drivers.js';
import { probe, runStep, type StepSpec } from './rate.js';

/**
 * A load-generator process (forked by bench/lib/worker.ts). Operations arrive over IPC as
 * { id, op, args } and are answered with { id, ok, result | error }; state (drivers, streams) lives
 * here between calls, so the gateway's measurements can be taken while it stays connected.
 */

const name = process.argv[2] ?? 'worker';
const drivers = new Map<string, Driver>();
const report = (msg: string): void => {
  process.send?.({ progress: msg });
};

type Args = Record<string, unknown>;
const ops: Record<string, (a: Args) => Promise<unknown>> = {
  async driver(a) {
    const id = String(a.id);
    const cfg = a.config as never;
    const d =
      a.kind === 'raw-xmpp'
        ? await rawXmppDriver(cfg)
        : a.kind === 'parley'
          ? await parleyDriver(cfg)
          : a.kind === 'send_message'
            ? await sendMessageDriver(cfg)
            : undefined;
    if (!d) throw new Error(`unknown driver kind ${String(a.kind)}`);
    drivers.set(id, d);
    return { id, kind: d.kind };
  },
  async step(a) {
    return runStep(get(a.id), a.spec as StepSpec);
  },
  async probe(a) {
    return probe(get(a.id), Number(a.window), Number(a.durationMs));
  },
  async closeDriver(a) {
    const d = drivers.get(String(a.id));
    drivers.delete(String(a.id));
    await d?.close();
    return true;
  },
  fleetLogin: (a) => fleetLogin(a as never, report),
  fleetStreams: (a) => fleetStreams(a as never, report),
  fleetProbe: (a) => fleetProbe(a as never),
  fleetClose: () => fleetClose(),
  roomJoin: (a) => roomJoin(a as never, report),
  roomFanout: (a) => roomFanout(a as never),
  history: (a) => historyQueries(a as never),
};

function get(id: unknown): Driver {
  const d = drivers.get(String(id));
  if (!d) throw new Error(`no driver ${String(id)}`);
  return d;
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
    process.send?.({ id: m.id, ok: false, error: `unknown op ${m.op}` });
    return;
  }
  fn(m.args ?? {}).then(
    (result) => process.send?.({ id: m.id, ok: true, result }),
    (err: unknown) => process.send?.({ id: m.id, ok: false, error: (err as Error)?.stack ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (err) => {
  report(`unhandled rejection in ${name}: ${String((err as Error)?.message ?? err)}`);
});
process.send?.({ hello: name });
