import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Options } from './options.js';
import { fdLimit, machineInfo } from './proc.js';
import { elapsed } from './progress.js';
import { loadAvg, type LoadAvg, type LoadCheck } from './load.js';

/** What a report says about the run itself: status, each scenario's outcome, the machine's load. */

export interface ScenarioStatus {
  status: 'ok' | 'failed' | 'skipped';
  /** why it failed or was skipped */
  why?: string;
  startedAtS: number;
  seconds?: number;
  loadavgBefore: LoadAvg;
  loadavgAfter?: LoadAvg;
  /** the load generator died during the scenario and was replaced */
  generatorRestarted?: boolean;
}

/** `--modrest DIR`: a prosody-modules checkout (DIR/mod_rest/mod_rest.lua) or the mod_rest folder itself. */
export function modRestPath(dir: string | undefined): { dir?: string; status: string } {
  if (!dir) return { status: 'not run: no prosody-modules checkout given (--modrest DIR)' };
  const d = resolve(dir);
  if (existsSync(join(d, 'mod_rest', 'mod_rest.lua')))
    return { dir: d, status: `measured: mod_rest from ${d}` };
  if (existsSync(join(d, 'mod_rest.lua')))
    return { dir: resolve(d, '..'), status: `measured: mod_rest from ${d}` };
  return { status: `not run: no mod_rest/mod_rest.lua under ${d}` };
}

export function buildMeta(a: {
  status: 'complete' | 'partial';
  startedAt: Date;
  opts: Options;
  machineBefore: Record<string, unknown>;
  load: LoadCheck;
  scenarios: Record<string, ScenarioStatus>;
  versions: Record<string, string>;
  ejabberd: boolean;
  ejabberdError?: string;
  modRest: { status: string };
  /** what the bench's Prosody ran with: its `gc` mode and allocator */
  prosodyRuntime?: { gcMode: string; allocator: string };
}): Record<string, unknown> & { machine: Record<string, unknown>; mode: string } {
  const { opts } = a;
  return {
    status: a.status,
    startedAt: a.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: Math.round(elapsed()),
    mode: opts.quick ? 'quick' : 'full',
    options: opts,
    scenarios: a.scenarios,
    load: a.load,
    machine: {
      ...a.machineBefore,
      loadavgBefore: a.load.atStart,
      loadavgAfter: loadAvg(),
    },
    coreLayout: `unpinned: Parley (1 process), Prosody (1 Lua thread), PostgreSQL (postmaster + backends), ejabberd (beam.smp), the load generator (1 process) and the runner share all ${String(machineInfo().cpus)} cores`,
    versions: a.versions,
    fdLimit: fdLimit(),
    servers: {
      prosody: `tools/servers/prosody.ts: MAM on (${opts.prosodyArchive === 'sql' ? 'sql archive store in PostgreSQL, on the bench cluster, through LuaDBI' : 'memory archive store'}), XEP-0198 on (5 s hibernation), carbons, no mod_limits, Nagle off, SCRAM iterations 10,000 (PLAIN login verifies against the stored hash)${a.prosodyRuntime ? `, Lua GC ${a.prosodyRuntime.gcMode}, ${a.prosodyRuntime.allocator} malloc` : ''}${opts.modrest ? '; mod_rest loaded (--modrest)' : ''}`,
      ejabberd: a.ejabberd
        ? 'tools/servers/ejabberd.ts: MAM off (mnesia MAM is pathological, recipe §6), XEP-0198 on, carbons, shaper none, mod_http_api on loopback'
        : `not available: ${a.ejabberdError}`,
      postgres:
        'tools/servers/postgres.ts: fsync off, synchronous_commit off (throw-away data); Parley pool 10',
      parley: `${opts.tsx ? 'src/main.ts under tsx (--tsx)' : 'dist/main.js (npm run build, as deployed)'}${opts.parleyRoot ? ` from ${opts.parleyRoot} (--parley-root)` : ''} per server, PARLEY_LOG_LEVEL=warn, DATABASE_URL to the bench PostgreSQL`,
    },
    modRest: a.modRest.status,
  };
}
