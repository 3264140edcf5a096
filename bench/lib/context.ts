import { readFileSync } from 'node:fs';
import pg from 'pg';
import { join } from 'node:path';
import type { RunningPostgres } from '../../tools/servers/postgres.js';
import type { RunningProsody } from '../../tools/servers/prosody.js';
import type { RunningEjabberd } from '../../tools/servers/ejabberd.js';
import type { ParleyProcess } from './parley.js';
import { startWorker, type Worker } from './worker.js';
import { cpuMs, CpuMeter, treeCpuMs } from './proc.js';
import { elapsed, progress } from './progress.js';
import type { Options } from './options.js';

/** What every scenario gets: the servers, the gateways, a load-generator process, and the clock. */
export interface Ctx {
  opts: Options;
  tmp: string;
  password: string;
  secret: string;
  prosody: RunningProsody;
  postgres: RunningPostgres;
  ejabberd?: RunningEjabberd;
  ejabberdError?: string;
  /** Parley on Prosody (started by the runner) */
  parley: ParleyProcess;
  /** Parley on ejabberd (started on demand by the ejabberd part of the throughput scenario) */
  parleyEj?: ParleyProcess;
  gen: Worker;
  /** users already written for Prosody, by prefix */
  results: Record<string, unknown>;
  findings: string[];
  /** seconds since start after which optional work is skipped (quick runs stay under 3 minutes) */
  budgetS: number;
  /** how often a dead load generator was replaced during the run */
  genRestarts?: number;
}

/**
 * A load generator that died (overload, a crash in a client library) is replaced, so the scenarios
 * after it still run; the death is a finding of the run. Returns true when it had to be replaced.
 */
export async function reviveGen(ctx: Ctx, where: string): Promise<boolean> {
  if (ctx.gen.alive()) return false;
  const why = ctx.gen.death() ?? 'gone';
  progress(`load generator died (${why.slice(0, 200)}): starting a new one`);
  ctx.findings.push(`${where}: the load generator died (${why.slice(0, 600)}); a new one was started`);
  await ctx.gen.stop().catch(() => undefined);
  ctx.gen = await startWorker('gen', { heapMb: 2048 });
  ctx.genRestarts = (ctx.genRestarts ?? 0) + 1;
  return true;
}

export function prosodyPid(p: RunningProsody): number | undefined {
  try {
    return Number(readFileSync(join(p.dir, 'prosody.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

export function postgresPid(pg: RunningPostgres): number | undefined {
  try {
    return Number(readFileSync(join(pg.dir, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}

/** CPU of gateway, XMPP server, database and load generator over an interval. */
export function meter(ctx: Ctx, on: 'prosody' | 'ejabberd'): CpuMeter {
  return new CpuMeter(() => ({
    parley: on === 'prosody' ? ctx.parley.pid : ctx.parleyEj?.pid,
    xmppServer: on === 'prosody' ? prosodyPid(ctx.prosody) : ctx.ejabberd?.serverPid(),
    postgres: postgresPid(ctx.postgres),
    loadgen: ctx.gen.pid,
  }));
}

/** The database of the gateway on each server (the runner creates them). */
export const PARLEY_DB = { prosody: 'bench_prosody', ejabberd: 'bench_ejabberd' } as const;

/**
 * Statements PostgreSQL has executed so far for one database (pg_stat_statements, loaded by the runner):
 * each is one round trip from the gateway (node-postgres does not pipeline). Read from the `postgres`
 * database, so the reading is not counted. Undefined when the extension is not there.
 */
export async function pgStatements(ctx: Ctx, db: string): Promise<number | undefined> {
  const c = new pg.Client({ connectionString: ctx.postgres.url });
  try {
    await c.connect();
    const { rows } = await c.query<{ n: string | null }>(
      `SELECT sum(s.calls) AS n FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1`,
      [db],
    );
    return Number(rows[0]?.n ?? 0);
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** µs of CPU per delivered message, per process. */
export function perMessage(cpu: Record<string, number>, delivered: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpu)) out[k] = delivered > 0 ? Math.round((v * 1000) / delivered) : 0;
  return out;
}

/**
 * Waits until a process tree is (nearly) idle: a failed throughput step leaves a backlog that must
 * not spill into the next measurement. Bounded by `maxMs`.
 */
export async function waitIdle(
  pids: (number | undefined)[],
  maxMs = 10_000,
  busyFraction = 0.15,
): Promise<number> {
  const t0 = performance.now();
  const live = pids.filter((p): p is number => !!p);
  for (;;) {
    const before = live.reduce((s, p) => s + treeCpuMs(p), 0);
    await new Promise((r) => setTimeout(r, 300));
    const used = live.reduce((s, p) => s + treeCpuMs(p), 0) - before;
    if (used / 300 < busyFraction || performance.now() - t0 > maxMs)
      return Math.round(performance.now() - t0);
  }
}

export function overBudget(ctx: Ctx, reserveS = 0): boolean {
  return elapsed() + reserveS > ctx.budgetS;
}

export function skip(ctx: Ctx, scenario: string, reason: string): { skipped: string } {
  progress(`skipped: ${reason}`);
  ctx.findings.push(`${scenario}: skipped (${reason})`);
  return { skipped: reason };
}

export { cpuMs };
