import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../tools/servers/freePort.js';
import { startPostgres, type RunningPostgres } from '../tools/servers/postgres.js';
import { startProsody, type RunningProsody } from '../tools/servers/prosody.js';
import { ensureEjabberd, startEjabberd, type RunningEjabberd } from '../tools/servers/ejabberd.js';
import { userNames, writeProsodyAccounts } from './lib/accounts.js';
import { overBudget, PARLEY_DB, prosodyPid, reviveGen, type Ctx } from './lib/context.js';
import { loadAvg, waitForQuietMachine } from './lib/load.js';
import { buildMeta, modRestPath, type ScenarioStatus } from './lib/meta.js';
import { createDatabase, prosodySqlDatabase } from './lib/servers.js';
import { summarizeProfile, type Window } from './lib/cpuprofile.js';
import { parseOptions } from './lib/options.js';
import { buildGateway, startParleyProcess, type ParleyProcess } from './lib/parley.js';
import { fdLimit, machineInfo } from './lib/proc.js';
import { elapsed, progress, setScenario } from './lib/progress.js';
import { startWorker } from './lib/worker.js';
import { latencyScenario } from './scenarios/latency.js';
import { prosodyThroughput, type Curve } from './scenarios/throughput.js';
import { kneeSweep, type Knee } from './scenarios/knee.js';
import { ejabberdPart } from './scenarios/ejabberd.js';
import { historyScenario } from './scenarios/history.js';
import { roomsScenario } from './scenarios/rooms.js';
import { scaleScenario } from './scenarios/scale.js';
import { crowdScenario } from './scenarios/crowd.js';
import { floodScenario } from './scenarios/flood.js';
import { writeReport } from './report/write.js';

/**
 * `npm run bench [-- --quick]`: starts its own Prosody, PostgreSQL, ejabberd and Parley (each Parley in
 * its own process, like an operator runs it), drives them from load-generator processes, and writes
 * bench/results/<date>.json, <date>.md and SVG charts. Nothing listens beyond 127.0.0.1.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FD_TARGET = 65_536;

/** Thousands of sessions need more open files than the usual 1024/20000: re-run under a raised limit. */
function reexecWithFdLimit(): void {
  if (process.env.PARLEY_BENCH_REEXEC === '1' || fdLimit().soft >= FD_TARGET) return;
  const probe = spawnSync(
    'bash',
    [
      '-c',
      `ulimit -Hn ${FD_TARGET} 2>/dev/null || ulimit -Hn; ulimit -n ${FD_TARGET} 2>/dev/null && echo ok`,
    ],
    { encoding: 'utf8' },
  );
  if (!probe.stdout.includes('ok')) return; // not allowed (not root): run with what we have, scale reports the limit
  const r = spawnSync(
    'bash',
    [
      '-c',
      `ulimit -Hn ${FD_TARGET} 2>/dev/null; ulimit -n ${FD_TARGET}; exec "$@"`,
      'bench',
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    {
      stdio: 'inherit',
      env: { ...process.env, PARLEY_BENCH_REEXEC: '1' },
    },
  );
  process.exit(r.status ?? 1);
}

function ensureSystem(): void {
  const missing = !existsSync('/usr/bin/prosody') || !existsSync('/usr/lib/postgresql');
  if (!missing) return;
  progress('installing system packages (scripts/ensure-system.sh)');
  const r = spawnSync('bash', [join(ROOT, 'scripts/ensure-system.sh')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/ensure-system.sh failed');
}

async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const v = (cmd: string, args: string[], re: RegExp): string => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
    return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
  };
  out.prosody = v('dpkg-query', ['-W', '-f=${Version}', 'prosody'], /(\S+)/);
  out.ejabberd = v('dpkg-query', ['-W', '-f=${Version}', 'ejabberd'], /(\S+)/);
  out.postgresql = v('dpkg-query', ['-W', '-f=${Version}', 'postgresql'], /(\S+)/);
  const lock = JSON.parse(
    (await import('node:fs')).readFileSync(join(ROOT, 'package-lock.json'), 'utf8'),
  ) as { packages: Record<string, { version?: string }> };
  for (const p of ['@xmpp/client', 'koa', 'better-sse', 'pg'])
    out[p] = lock.packages[`node_modules/${p}`]?.version ?? 'unknown';
  return out;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  reexecWithFdLimit();
  const startedAt = new Date();
  const machineBefore = machineInfo();
  progress(
    `${opts.quick ? 'quick run' : 'full run'}: ${opts.scenarios.join(', ')}${opts.ejabberd ? ' (+ ejabberd)' : ''}${opts.modrest ? ' (+ mod_rest)' : ''}; load average ${(machineBefore.loadavg as number[]).join(' ')} on ${String(machineBefore.cpus)} cores`,
  );
  const load = await waitForQuietMachine(opts.maxLoad, opts.loadWaitS);
  const modRest = modRestPath(opts.modrest);
  ensureSystem();
  if (opts.ejabberd)
    await ensureEjabberd(progress).catch((err: Error) => progress(`ejabberd unavailable: ${err.message}`));

  const tmp = await mkdtemp(join(tmpdir(), 'parley-bench-'));
  await chmod(tmp, 0o711); // postgres and ejabberd run as their own users and must reach their dirs
  const password = 'bench-pw-' + randomBytes(4).toString('hex');
  const secret = randomBytes(18).toString('base64url');
  const adminPassword = randomBytes(9).toString('base64url');
  const componentSecret = randomBytes(9).toString('hex');
  let prosody: RunningProsody | undefined;
  let postgres: RunningPostgres | undefined;
  let ejabberd: RunningEjabberd | undefined;
  let ejabberdError: string | undefined;
  const parleys: ParleyProcess[] = [];
  const results: Record<string, unknown> = {};
  const findings: string[] = [];
  const profileWindows: Record<string, Window[]> = {};
  const profileDir = join(tmp, 'profiles');
  let gen: Awaited<ReturnType<typeof startWorker>> | undefined;
  let ctxRef: Ctx | undefined;
  const scenarios: Record<string, ScenarioStatus> = {};
  let versionInfo: Record<string, string> = {};
  const finalize = async (
    status: 'complete' | 'partial',
    profiles?: Record<string, unknown>,
  ): Promise<string[]> => {
    const meta = buildMeta({
      status,
      startedAt,
      opts,
      machineBefore,
      load,
      scenarios,
      versions: versionInfo,
      ejabberd: !!ejabberd,
      ejabberdError,
      modRest,
      ...(prosody ? { prosodyRuntime: { gcMode: prosody.gcMode, allocator: prosody.allocator } } : {}),
    });
    return writeReport(opts.outDir, startedAt, { meta, results, findings, profiles });
  };

  // Throw-away servers holding thousands of sessions: nothing of theirs is kept, so no graceful shutdown.
  const stopAll = async (): Promise<void> => {
    for (const p of parleys)
      if (p.exitCode() === null)
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    const pp = prosody && prosodyPid(prosody);
    if (pp)
      try {
        process.kill(pp, 'SIGKILL');
      } catch {
        /* gone */
      }
    await Promise.allSettled([
      (ctxRef?.gen ?? gen)?.stop(),
      ...parleys.map((p) => p.stop()),
      prosody?.stop(),
      ejabberd?.stop(0),
      postgres?.stop(),
    ]);
  };
  process.once('SIGINT', () => {
    progress('interrupted: stopping servers');
    findings.push('the run was interrupted (SIGINT)');
    void finalize('partial')
      .catch(() => [])
      .then(() => stopAll())
      .finally(() => process.exit(130));
  });
  // Whatever throws outside a scenario's own handling still leaves what was measured on disk.
  process.on('uncaughtException', (err) => {
    progress(`runner: uncaught ${err.stack ?? String(err)}`);
    findings.push(`the runner hit an uncaught exception: ${err.message}`);
  });

  try {
    setScenario('setup');
    const t0 = performance.now();
    // With the sql archive Prosody needs its database before it starts.
    const pgStart = startPostgres({ dir: join(tmp, 'pg'), statStatements: true });
    const prosodyStart = (async () => {
      const sql = opts.prosodyArchive === 'sql' ? await prosodySqlDatabase(await pgStart) : undefined;
      return startProsody({
        dir: join(tmp, 'prosody'),
        componentSecret,
        adminPassword,
        hibernationSeconds: 5,
        ...(sql ? { archiveStorage: 'sql' as const, sql } : {}),
        ...(modRest.dir ? { pluginPaths: [modRest.dir], extraModules: ['rest'] } : {}),
      });
    })();
    const [p, g, e] = await Promise.allSettled([
      prosodyStart,
      pgStart,
      opts.ejabberd && existsSync('/usr/sbin/ejabberdctl')
        ? startEjabberd({ dir: join(tmp, 'ejabberd'), componentSecret, adminPassword })
        : Promise.reject(new Error(opts.ejabberd ? 'ejabberd is not installed' : 'disabled (--no-ejabberd)')),
    ]);
    if (p.status === 'rejected') throw p.reason;
    if (g.status === 'rejected') throw g.reason;
    prosody = p.value;
    postgres = g.value;
    if (e.status === 'fulfilled') ejabberd = e.value;
    else {
      ejabberdError = String((e.reason as Error)?.message ?? e.reason);
      progress(`ejabberd not started: ${ejabberdError.split('\n')[0]}`);
    }
    progress(
      `servers up in ${Math.round(performance.now() - t0)} ms (Prosody ${prosody.service}, PostgreSQL :${postgres.port}${ejabberd ? `, ejabberd ${ejabberd.service}` : ''})`,
    );

    // Accounts: every scenario has users of its own (Parley holds one session per user).
    const pairs = [
      'lrawa',
      'lrawb',
      'lpara',
      'lparb',
      'trawa',
      'trawb',
      'tpara',
      'tparb',
      'tpxa',
      'tpxb',
      'tmra',
      'tmrb',
      'tknea',
      'tkneb',
    ];
    const roomUsers = userNames('room', opts.roomOccupants);
    await writeProsodyAccounts(join(prosody.dir, 'data'), prosody.domain, [...pairs, ...roomUsers], password);

    // As deployed: the gateway's compiled JavaScript (npm run build in the checkout that runs), unless --tsx.
    const entry = opts.tsx ? undefined : await buildGateway(opts.parleyRoot);
    const dbUrl = await createDatabase(postgres, PARLEY_DB.prosody);
    // PARLEY_SESSION_RESTORE=false: the bench kills and restarts the gateway for a clean baseline (crowd,
    // scale), on the same database and instance id. With restore on (the default), the new gateway logged
    // every session the killed one held back in to the fresh Prosody: after the crowd (5,000) and scale
    // 1,000 and 5,000, the 9,900-session gateway held 11,000 extra XMPP sockets, ran out of open files
    // (20,000) at the logins, and reset every SSE stream. Off, the killed run's sessions are just ended.
    const commonEnv = {
      PARLEY_SECRET: secret,
      XMPP_RECONNECT_MAX_SECONDS: '5',
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_SESSION_RESTORE: 'false',
    };
    const startP = async (): Promise<ParleyProcess> =>
      startParleyProcess({
        label: 'parley-prosody',
        port: await freePort(),
        cpuProfDir: opts.profile ? profileDir : undefined,
        root: opts.parleyRoot,
        entry,
        env: {
          ...commonEnv,
          DATABASE_URL: dbUrl,
          PARLEY_DATA_DIR: join(tmp, 'parley-p'),
          PARLEY_INSTANCE_ID: 'bench-prosody',
          XMPP_DOMAIN: prosody!.domain,
          XMPP_SERVICE: prosody!.service,
          XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${prosody!.componentPort}`,
          XMPP_ADMIN_JID: prosody!.adminJid,
          XMPP_ADMIN_PASSWORD: adminPassword,
          XMPP_COMPONENT_SECRET: componentSecret,
        },
      });
    // Parley on ejabberd starts now too (idle until its part of the throughput scenario): compiling
    // and starting a gateway mid-run would cost more time than an idle process costs CPU.
    const startE = async (): Promise<ParleyProcess | undefined> => {
      if (!ejabberd || !opts.scenarios.includes('throughput')) return undefined;
      const ejDb = await createDatabase(postgres!, PARLEY_DB.ejabberd);
      return startParleyProcess({
        label: 'parley-ejabberd',
        port: await freePort(),
        root: opts.parleyRoot,
        entry,
        env: {
          ...commonEnv,
          DATABASE_URL: ejDb,
          PARLEY_DATA_DIR: join(tmp, 'parley-e'),
          PARLEY_INSTANCE_ID: 'bench-ejabberd',
          XMPP_DOMAIN: ejabberd.domain,
          XMPP_SERVICE: ejabberd.service,
          XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${ejabberd.componentPort}`,
          XMPP_ADMIN_JID: ejabberd.adminJid,
          XMPP_ADMIN_PASSWORD: adminPassword,
          XMPP_COMPONENT_SECRET: componentSecret,
        },
      });
    };
    const [parley, worker, parleyEj] = await Promise.all([
      startP(),
      startWorker('gen', { heapMb: 2048 }),
      startE().catch((err: Error) => {
        ejabberdError = `Parley did not start on ejabberd: ${err.message}`;
        progress(ejabberdError.split('\n')[0]!);
        return undefined;
      }),
    ]);
    parleys.push(parley);
    if (parleyEj) parleys.push(parleyEj);
    gen = worker;
    progress(
      `Parley (on Prosody) at ${parley.url}, pid ${parley.pid}${parleyEj ? `; Parley (on ejabberd) at ${parleyEj.url}` : ''}; load generator pid ${gen.pid}`,
    );
    versionInfo = await versions();
    const ctx: Ctx = {
      opts,
      tmp,
      password,
      secret,
      prosody,
      postgres,
      ejabberd,
      ejabberdError,
      parley,
      parleyEj,
      gen,
      results,
      findings,
      // a quick run stays under 5 minutes however long it waited for the load (a loaded run is not
      // comparable anyway); a full run keeps its whole budget for measuring
      budgetS: opts.budgetS + (opts.quick ? 0 : load.waitedS),
    };
    ctxRef = ctx;

    // Each scenario: its load average before and after, its outcome; a failure is recorded (with what
    // the scenario had measured by then, via `partial`), a dead load generator is replaced, and the
    // report so far is written, so a run that dies later still leaves its results.
    const run = async (
      name: string,
      fn: () => Promise<unknown>,
      partial?: () => Record<string, unknown>,
    ): Promise<void> => {
      setScenario(name);
      const t = performance.now();
      const st: ScenarioStatus = {
        status: 'ok',
        loadavgBefore: loadAvg(),
        startedAtS: Math.round(elapsed()),
      };
      scenarios[name] = st;
      const restartsBefore = ctx.genRestarts ?? 0;
      try {
        results[name] = await fn();
        const res = results[name] as { skipped?: string } | { skipped?: string }[] | undefined;
        const skipped = Array.isArray(res)
          ? res.length && res.every((p) => p.skipped)
            ? res.map((p) => p.skipped).join('; ')
            : undefined
          : res?.skipped;
        if (skipped) Object.assign(st, { status: 'skipped', why: skipped });
      } catch (err) {
        const msg = (err as Error)?.stack ?? String(err);
        progress(`FAILED: ${msg.split('\n').slice(0, 3).join(' | ')}`);
        results[name] = { ...partial?.(), error: msg.slice(0, 4000) };
        findings.push(`${name}: failed (${msg.split('\n')[0]})`);
        Object.assign(st, { status: 'failed', why: msg.split('\n')[0]!.slice(0, 500) });
      }
      await reviveGen(ctx, name).catch((err: Error) =>
        progress(`could not restart the load generator: ${err.message}`),
      );
      if ((ctx.genRestarts ?? 0) > restartsBefore) st.generatorRestarted = true;
      st.seconds = Math.round((performance.now() - t) / 10) / 100;
      st.loadavgAfter = loadAvg();
      progress(
        `done in ${st.seconds.toFixed(1)} s (${st.status}); load average ${st.loadavgAfter.join(' ')}`,
      );
      await finalize('partial').catch((err: Error) =>
        progress(`could not write the partial report: ${err.message}`),
      );
    };

    if (opts.scenarios.includes('latency')) {
      profileWindows.latency = [];
      await run('latency', () =>
        latencyScenario(
          ctx,
          { raw: ['lrawa', 'lrawb'], parley: ['lpara', 'lparb'] },
          profileWindows.latency!,
        ),
      );
    }
    if (opts.scenarios.includes('throughput')) {
      profileWindows.throughput = [];
      const prosodyCurves: Curve[] = [];
      const ejCurves: Curve[] = [];
      let knee: Knee | undefined;
      const archive = opts.prosodyArchive === 'sql' ? 'archive in PostgreSQL' : 'memory archive';
      const server = `Prosody 0.12 (MAM on, ${archive}; XEP-0198 on; carbons on)`;
      await run(
        'throughput',
        async () => {
          await prosodyThroughput(
            ctx,
            {
              raw: ['trawa', 'trawb'],
              parley: ['tpara', 'tparb'],
              ...(opts.quick ? {} : { parleyXmpp: ['tpxa', 'tpxb'] as [string, string] }),
              ...(modRest.dir ? { modRest: ['tmra', 'tmrb'] as [string, string] } : {}),
            },
            profileWindows.throughput!,
            prosodyCurves,
          );
          if (!overBudget(ctx, 60))
            knee = await kneeSweep(
              ctx,
              ['tknea', 'tkneb'],
              prosodyCurves.find((c) => c.system === 'Parley'),
            );
          let ej: Record<string, unknown> | { skipped: string };
          if (!ctx.ejabberd || !ctx.parleyEj)
            ej = { skipped: `ejabberd not available: ${ejabberdError ?? 'not started'}` };
          else {
            setScenario('ejabberd');
            ej = await ejabberdPart(ctx, ejCurves);
            await ctx.parleyEj.stop();
          }
          return { prosody: { server, curves: prosodyCurves }, knee, ejabberd: ej, modRest: modRest.status };
        },
        () => ({
          prosody: { server, curves: prosodyCurves },
          knee,
          ejabberd: { curves: ejCurves },
          modRest: modRest.status,
        }),
      );
    }
    if (opts.scenarios.includes('rooms')) {
      profileWindows['rooms (fan-out)'] = [];
      await run('rooms', () => roomsScenario(ctx, roomUsers, profileWindows['rooms (fan-out)']!));
    }
    if (opts.scenarios.includes('history')) await run('history', () => historyScenario(ctx));
    let batch = 0;
    const usersFor = async (n: number): Promise<string[]> => {
      const users = userNames(`s${batch++}x`, n);
      await writeProsodyAccounts(join(prosody!.dir, 'data'), prosody!.domain, users, password);
      return users;
    };
    // A fresh gateway and XMPP server, so memory and idle-CPU baselines are clean. SIGKILL for the gateway
    // (a graceful logoff of thousands of sessions is not what is measured); Prosody restarts with
    // the same accounts, instead of spending minutes ending thousands of hibernating sessions.
    const restartServers = async (): Promise<void> => {
      progress('restarting Prosody and Parley for a clean baseline');
      process.kill(ctx.parley.pid, 'SIGKILL');
      await ctx.parley.stop();
      await prosody!.stop();
      await prosody!.start();
      ctx.parley = await startP();
      parleys.push(ctx.parley);
    };
    if (opts.scenarios.includes('flood')) {
      profileWindows.flood = [];
      await run('flood', () => floodScenario(ctx, usersFor, dbUrl, profileWindows.flood));
    }
    let crowdRan = false;
    if (opts.scenarios.includes('crowd')) {
      await run('crowd', () => {
        crowdRan = true;
        return crowdScenario(ctx, usersFor, restartServers, Object.keys(scenarios).length > 1);
      });
    }
    if (opts.scenarios.includes('scale')) {
      profileWindows['scale (delivery among the connected users)'] = [];
      await run('scale', () =>
        scaleScenario(
          ctx,
          usersFor,
          restartServers,
          profileWindows['scale (delivery among the connected users)'],
          crowdRan,
        ),
      );
    }

    setScenario('report');
    // With --profile, stop Parley gracefully so --cpu-prof writes its profile; otherwise the gateways'
    // shutdown (logging off every session) is not measured: kill them.
    if (!opts.profile) for (const p of parleys) if (p.exitCode() === null) process.kill(p.pid, 'SIGKILL');
    await Promise.allSettled(parleys.map((p) => p.stop()));
    let profiles: Record<string, unknown> | undefined;
    if (opts.profile && existsSync(profileDir)) {
      profiles = {};
      // the first gateway on Prosody (latency, throughput, rooms, history), its main thread (thread id 0)
      const dirs = (await readdir(profileDir)).filter((d) => d.startsWith('parley-prosody')).sort();
      const first = dirs[0] ? join(profileDir, dirs[0]) : undefined;
      const file = first
        ? (await readdir(first)).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)).map((f) => join(first, f))[0]
        : undefined;
      if (file) {
        for (const [name, windows] of Object.entries(profileWindows)) {
          if (windows.length) profiles[name] = { ...(await summarizeProfile(file, windows)), windows };
        }
        await mkdir(opts.outDir, { recursive: true });
        const keep = join(
          opts.outDir,
          `${startedAt.toISOString().replace(/[:]/g, '-').slice(0, 19)}-parley.cpuprofile`,
        );
        await import('node:fs/promises').then((fs) => fs.copyFile(file, keep));
        profiles.file = keep;
      }
    }
    const paths = await finalize('complete', profiles);
    progress(`wrote ${paths.join(', ')}`);
  } catch (err) {
    // setup (or the report) failed: still write what there is, then fail the run
    findings.push(`the run failed: ${(err as Error)?.message ?? String(err)}`);
    await finalize('partial')
      .then((p) => progress(`wrote partial results: ${p.join(', ')}`))
      .catch(() => undefined);
    throw err;
  } finally {
    await stopAll();
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
  progress(`finished in ${elapsed().toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
