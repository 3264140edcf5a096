/** Command line of `npm run bench -- [options]`. */

export const SCENARIOS = ['latency', 'throughput', 'history', 'rooms', 'flood', 'crowd', 'scale'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Options {
  quick: boolean;
  scenarios: Scenario[];
  /** no ejabberd at all (its part of the throughput scenario is skipped) */
  ejabberd: boolean;
  outDir: string;
  /** Parley runs with --cpu-prof; the profile's hottest functions in the measured windows go into the report */
  profile: boolean;
  latencyRates: number[];
  latencyMs: number;
  stepMs: number;
  drainMs: number;
  /** throughput steps, as fractions of the closed-loop probe's rate */
  fractions: number[];
  sessions: number[];
  /** crowd scenario: users logged in with an open stream, of which `crowdChatters` chat in pairs at 1 msg/s */
  crowd: number;
  crowdChatters: number;
  crowdSeconds: number;
  /** the crowd's chat runs this long first, reported apart (the gateway was restarted for the scenario) */
  crowdWarmSeconds: number;
  historyRows: number;
  historyQueries: number;
  roomOccupants: number;
  roomMessages: number;
  /** run the gateway from another checkout (A/B comparisons); default: this repository */
  parleyRoot?: string;
  /** the run skips optional work past this many seconds */
  budgetS: number;
  /** a prosody-modules checkout: mod_rest is loaded into the bench Prosody and measured as a peer */
  modrest?: string;
  /** a run starting above this 1-minute load average waits for it to drop (and is marked not comparable) */
  maxLoad: number;
  /** at most this many seconds of waiting for the load to drop before the run */
  loadWaitS: number;
  /** measure the lean raw driver too even where @xmpp/client stayed under 50 % of a core */
  leanRaw: boolean;
  /** run the gateway from TypeScript under tsx instead of compiled JavaScript (production runs dist/main.js) */
  tsx: boolean;
  /** the knee's steps are multiples of this rate instead of Parley's measured sustained rate (A/B runs) */
  kneeBase?: number;
  /** Prosody's archive store: its memory store (default) or PostgreSQL through LuaDBI, as the Ansible role deploys */
  prosodyArchive: 'memory' | 'sql';
}

const HELP = `npm run bench -- [--quick] [--only latency,throughput,history,rooms,flood,crowd,scale] [--no-ejabberd]
                      [--profile] [--sessions 1000,5000,10000] [--history-rows N] [--out DIR]
                      [--parley-root DIR] [--budget SECONDS] [--modrest DIR]
                      [--max-load L] [--load-wait SECONDS] [--lean-raw]
                      [--crowd USERS] [--crowd-chatters N] [--tsx] [--knee-base RATE]
                      [--prosody-archive memory|sql]
  --quick        a run under 5 minutes (shorter steps, 1k sessions, 50k history rows)
  --modrest      a prosody-modules checkout (with mod_rest/): mod_rest is measured as a peer row
  --max-load     1-minute load average above which the run first waits and is marked not comparable (1)
  --load-wait    the longest wait for the load to drop before starting (60 s; 0: do not wait)
  --crowd        users online in the crowd scenario (5000; quick: 400), --crowd-chatters of them (500;
                 quick: 40) chat in pairs at 1 msg/s each
  --lean-raw     always measure the lean raw-XMPP driver too (default: only where @xmpp/client used > 50 % of a core)
  --profile      run Parley with --cpu-prof and report its hottest functions per scenario
  --parley-root  run the gateway from another checkout (A/B: a branch with a proposed change)
  --knee-base    the backpressure knee offers multiples of this msg/s rather than of Parley's measured
                 sustained rate, so two runs (an A/B with --parley-root) offer the same load
  --tsx          run the gateway's TypeScript under tsx (default: npm run build, then dist/main.js, as deployed)
  --prosody-archive  Prosody's MAM store: memory (default) or sql (PostgreSQL on the bench's cluster, as the
                 Ansible role deploys; needs lua-dbi-postgresql, which scripts/ensure-system.sh installs)
  --budget       seconds after which optional work is skipped (quick: 180, load wait included)
`;

export function parseOptions(argv: string[]): Options {
  const has = (f: string): boolean => argv.includes(f);
  const val = (f: string): string | undefined => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (has('--help') || has('-h')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const known = new Set([
    '--quick',
    '--only',
    '--no-ejabberd',
    '--profile',
    '--sessions',
    '--history-rows',
    '--out',
    '--budget',
    '--parley-root',
    '--modrest',
    '--max-load',
    '--load-wait',
    '--lean-raw',
    '--crowd',
    '--crowd-chatters',
    '--tsx',
    '--knee-base',
    '--prosody-archive',
  ]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    if (!known.has(a)) throw new Error(`unknown option ${a}\n${HELP}`);
  }
  const quick = has('--quick');
  const only = val('--only')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of only ?? [])
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`unknown scenario ${s} (${SCENARIOS.join(', ')})`);
  const prosodyArchive = val('--prosody-archive') ?? 'memory';
  if (prosodyArchive !== 'memory' && prosodyArchive !== 'sql')
    throw new Error(`--prosody-archive is memory or sql, not ${prosodyArchive}`);
  const sessions = val('--sessions')?.split(',').map(Number) ?? (quick ? [1000] : [1000, 5000, 10_000]);
  return {
    quick,
    scenarios: (only as Options['scenarios'] | undefined) ?? [...SCENARIOS],
    ejabberd: !has('--no-ejabberd'),
    outDir: val('--out') ?? new URL('../results', import.meta.url).pathname,
    profile: has('--profile'),
    latencyRates: [50, 200, 500],
    latencyMs: quick ? 2500 : 15_000,
    stepMs: quick ? 1200 : 5000,
    drainMs: quick ? 1000 : 3000,
    fractions: quick ? [0.3, 0.6, 0.9, 1.2, 1.5] : [0.25, 0.5, 0.75, 0.9, 1.05, 1.25, 1.5],
    sessions,
    crowd: Number(val('--crowd') ?? (quick ? 400 : 5000)),
    crowdChatters: Number(val('--crowd-chatters') ?? (quick ? 40 : 500)),
    crowdSeconds: quick ? 8 : 30,
    crowdWarmSeconds: quick ? 2 : 5,
    historyRows: Number(val('--history-rows') ?? (quick ? 50_000 : 1_000_000)),
    historyQueries: quick ? 100 : 400,
    roomOccupants: 100,
    roomMessages: quick ? 10 : 50,
    budgetS: Number(val('--budget') ?? (quick ? 180 : 3600)),
    parleyRoot: val('--parley-root'),
    modrest: val('--modrest'),
    maxLoad: Number(val('--max-load') ?? 1),
    loadWaitS: Number(val('--load-wait') ?? 60),
    leanRaw: has('--lean-raw'),
    tsx: has('--tsx'),
    ...(val('--knee-base') ? { kneeBase: Number(val('--knee-base')) } : {}),
    prosodyArchive,
  };
}
