import type { Curve, CurveStep } from '../scenarios/throughput.js';

/** Issue 17's acceptance figure: PostgreSQL round trips per delivered message, at load. */
export const STATEMENTS_LIMIT = 2;

const n = (x: number | undefined, d = 2): string =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en', { maximumFractionDigits: d });

/** Statements per message of a Parley row (what PostgreSQL executed for its database); raw rows have none. */
export const statementsCell = (c: Curve, s: CurveStep | undefined): string =>
  c.path.startsWith('REST') && s?.pgStatementsPerMsg !== undefined ? n(s.pgStatementsPerMsg) : '–';

/**
 * Context switches per delivered message, gateway · XMPP server · PostgreSQL (every backend): how often each
 * slept and was woken, which on a virtual machine costs more than most of the work (bench/README.md). The
 * gateway's is "–" on raw rows, where no gateway runs.
 */
export const switchesCell = (c: Curve, s: CurveStep | undefined): string => {
  const w = s?.switchesPerMsg;
  if (!w) return '–';
  return `${c.path.startsWith('REST') ? n(w.parley) : '–'} · ${n(w.xmppServer)} · ${n(w.postgres)}`;
};

/**
 * One target per Parley REST → SSE curve (each server): the statements PostgreSQL executed for the
 * gateway's database per delivered message, at the highest sustained step (at load, where concurrent
 * writes share a statement). Each statement is one round trip: node-postgres does not pipeline.
 */
export function statementsTargets(
  curves: Curve[],
): { target: string; measured: string; status: 'met' | 'not met' | 'not measured' }[] {
  return curves
    .filter((c) => c.system === 'Parley')
    .map((c) => {
      const at = c.steps.filter((s) => s.sustained).at(-1);
      const target = `≤ ${STATEMENTS_LIMIT} PostgreSQL round trips per delivered message at load (${c.server}, REST → SSE, at the sustained rate)`;
      if (!at || at.pgStatementsPerMsg === undefined)
        return {
          target,
          measured: at ? 'not counted (pg_stat_statements not loaded)' : 'no sustained step',
          status: 'not measured' as const,
        };
      return {
        target,
        measured: `${n(at.pgStatementsPerMsg)} statements per message at ${n(at.rate, 0)} msg/s`,
        status: at.pgStatementsPerMsg <= STATEMENTS_LIMIT ? ('met' as const) : ('not met' as const),
      };
    });
}

/** The same figure among thousands of users: many sessions writing at once, as in production. */
export function crowdStatementsTarget(
  chat: { pgStatementsPerMsg?: number; chatters: number },
  at: string,
): { target: string; measured: string; status: 'met' | 'not met' | 'not measured' } {
  const target = `≤ ${STATEMENTS_LIMIT} PostgreSQL round trips per delivered message at load (crowd: pairs at 1 msg/s each)`;
  return chat.pgStatementsPerMsg === undefined
    ? { target, measured: 'not counted (pg_stat_statements not loaded)', status: 'not measured' }
    : {
        target,
        measured: `${n(chat.pgStatementsPerMsg)} statements per message (${at})`,
        status: chat.pgStatementsPerMsg <= STATEMENTS_LIMIT ? 'met' : 'not met',
      };
}
