import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../tools/servers/freePort.js';
import { startPostgres, type RunningPostgres } from '../../tools/servers/postgres.js';
import { startProsody, type RunningProsody } from '../../tools/servers/prosody.js';
import { userNames, writeProsodyAccounts } from '../lib/accounts.js';
import { prosodyPid, waitIdle } from '../lib/context.js';
import { startParleyProcess, type ParleyProcess } from '../lib/parley.js';
import { cpuMs } from '../lib/proc.js';
import { startWorker, type Worker } from '../lib/worker.js';
import type { Summary } from '../lib/stats.js';
import { gatewayEnv, newProsodySecrets } from '../lib/servers.js';

/**
 * Prosody's CPU per Parley message by *who* talks: the same N users online, messages on a few fixed pairs
 * (already talked), on fresh pairs (two users who never had a message archived), and on random pairs (the
 * scale scenario's pattern). One Prosody + gateway + load-generator process per `--variants` entry (a line
 * of Prosody config appended to the rig's, `-` for none), all up at once and measured in alternating
 * segments, so the machine's background load hits each alike. Also counts the users in Prosody's
 * `archive_cleanup` map for today (mod_mam's expiry bookkeeping, a keyval file rewritten whole for each
 * user's first archived message of the day when the archive store cannot delete by wildcard).
 *
 *   node --import tsx bench/tools/pair-cost.ts [--users 1000] [--messages 150] [--rate 25] [--rounds 3]
 *     [--variants '-,archive_expires_after = "1d"'] [--label X]
 *
 * Writes bench/results/<date>-pairs-<label>.json and prints a table.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const USERS = Number(arg('users', '1000'));
const MESSAGES = Number(arg('messages', '150'));
const RATE = Number(arg('rate', '25'));
const ROUNDS = Number(arg('rounds', '3'));
const VARIANTS = arg('variants', '-,archive_expires_after = "1d"').split(',');
const LABEL = arg('label', 'current');
const FIXED = 10; // pairs (users 0..19), warmed before measuring
const KINDS = ['fixed', 'fresh', 'random'] as const;
type Kind = (typeof KINDS)[number];
const log = (msg: string): void => void process.stderr.write(`[pairs] ${msg}\n`);

interface Stack {
  name: string;
  prosody: RunningProsody;
  parley: ParleyProcess;
  gen: Worker;
  nextFresh: number;
  segments: Segment[];
}
interface Segment {
  kind: Kind;
  round: number;
  prosodyUsPerMessage: number;
  gatewayUsPerMessage: number;
  delivered: number;
  p50Ms: number;
  cleanupMapUsers: number;
}

/** Users listed in today's archive_cleanup map file(s) (0 when there is none). */
async function cleanupMapUsers(prosody: RunningProsody): Promise<number> {
  const dir = join(prosody.dir, 'data', prosody.domain, 'archive_cleanup');
  let n = 0;
  for (const f of await readdir(dir).catch(() => [] as string[]))
    n += ((await readFile(join(dir, f), 'utf8')).match(/\] = true/g) ?? []).length;
  return n;
}

async function startStack(i: number, line: string, postgres: RunningPostgres, tmp: string): Promise<Stack> {
  const name = `v${i}`;
  const password = `pw-${randomBytes(4).toString('hex')}`;
  const secrets = newProsodySecrets();
  const prosody = await startProsody({
    dir: join(tmp, name, 'prosody'),
    ...secrets,
    hibernationSeconds: 5,
    extraConfig: line === '-' ? [] : [line],
  });
  const users = userNames(`${name}u`, USERS);
  await writeProsodyAccounts(join(prosody.dir, 'data'), prosody.domain, users, password);
  const parley = await startParleyProcess({
    label: `pairs${name}`,
    port: await freePort(),
    env: {
      ...(await gatewayEnv({ tmp, prosody, postgres, ...secrets }, `pairs${name}`)),
      XMPP_RECONNECT_MAX_SECONDS: '5',
    },
  });
  const gen = await startWorker(`gen-${name}`, { heapMb: 1024 });
  const login = await gen.call<{ ok: number; failed: number; perSecond: number; firstError?: string }>(
    'fleetLogin',
    { url: parley.url, users, password, concurrency: 16, deadlineMs: 600_000 },
    900_000,
  );
  const streams = await gen.call<{ open: number }>('fleetStreams', { concurrency: 32, deadlineMs: 120_000 });
  log(
    `${name} (${line}): ${login.ok} logged in at ${login.perSecond}/s${login.failed ? ` (${login.failed} failed: ${login.firstError})` : ''}, ${streams.open} streams`,
  );
  if (streams.open < USERS) throw new Error(`${name}: only ${streams.open} of ${USERS} users are online`);
  return { name, prosody, parley, gen, nextFresh: 2 * FIXED, segments: [] };
}

function pairsFor(s: Stack, kind: Kind): [number, number][] {
  if (kind === 'fixed') return Array.from({ length: FIXED }, (_, i) => [2 * i, 2 * i + 1]);
  if (kind === 'fresh')
    return Array.from({ length: MESSAGES }, () => {
      const a = s.nextFresh;
      s.nextFresh += 2;
      return [a % USERS, (a + 1) % USERS];
    });
  return Array.from({ length: MESSAGES }, () => {
    const a = Math.floor(Math.random() * USERS);
    return [a, (a + 1 + Math.floor(Math.random() * (USERS - 1))) % USERS];
  });
}

/** One segment: MESSAGES at RATE, then until Prosody and the gateway are idle again (what a message triggers). */
async function segment(s: Stack, kind: Kind, round: number, count = MESSAGES): Promise<Segment> {
  const pids = [prosodyPid(s.prosody)!, s.parley.pid];
  await waitIdle(pids, 10_000, 0.05);
  const [p0, g0] = pids.map(cpuMs);
  const d = await s.gen.call<{ delivered: number; latency: Summary }>(
    'fleetProbe',
    {
      url: s.parley.url,
      tag: `${kind}${round}`,
      count,
      rate: RATE,
      drainMs: 20_000,
      pairs: pairsFor(s, kind),
    },
    300_000,
  );
  await waitIdle(pids, 10_000, 0.05);
  const [p1, g1] = pids.map(cpuMs);
  const per = (a: number, b: number): number => Math.round(((b - a) * 1000) / Math.max(1, d.delivered));
  return {
    kind,
    round,
    prosodyUsPerMessage: per(p0!, p1!),
    gatewayUsPerMessage: per(g0!, g1!),
    delivered: d.delivered,
    p50Ms: Math.round(d.latency.p50 ?? 0),
    cleanupMapUsers: await cleanupMapUsers(s.prosody),
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<void> {
  if (2 * FIXED + 2 * MESSAGES * ROUNDS > USERS)
    log(
      `note: ${ROUNDS} fresh segments of ${MESSAGES} need ${2 * FIXED + 2 * MESSAGES * ROUNDS} users; later ones reuse`,
    );
  const tmp = await mkdtemp(join(tmpdir(), 'parley-pairs-'));
  await chmod(tmp, 0o711);
  const postgres = await startPostgres({ dir: join(tmp, 'pg') });
  const stacks: Stack[] = [];
  const load0 = loadavg();
  try {
    for (const [i, v] of VARIANTS.entries()) stacks.push(await startStack(i, v.trim(), postgres, tmp));
    for (const s of stacks) await segment(s, 'fixed', 0, 2 * FIXED); // the fixed pairs have talked
    for (let round = 1; round <= ROUNDS; round++)
      for (const kind of KINDS)
        for (const s of stacks) {
          const seg = await segment(s, kind, round);
          s.segments.push(seg);
          log(
            `${s.name} round ${round} ${kind.padEnd(6)}: Prosody ${seg.prosodyUsPerMessage} µs/message, gateway ${seg.gatewayUsPerMessage} µs, delivered ${seg.delivered}/${MESSAGES}, p50 ${seg.p50Ms} ms, archive_cleanup map: ${seg.cleanupMapUsers} users`,
          );
        }
  } finally {
    for (const s of stacks) {
      await s.gen.stop().catch(() => undefined);
      await s.parley.stop().catch(() => undefined);
      await s.prosody.stop().catch(() => undefined);
    }
    await postgres.stop().catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
  const summary = stacks.map((s, i) => ({
    variant: VARIANTS[i]!.trim(),
    prosodyUsPerMessage: Object.fromEntries(
      KINDS.map((k) => [k, median(s.segments.filter((x) => x.kind === k).map((x) => x.prosodyUsPerMessage))]),
    ),
    segments: s.segments,
  }));
  for (const s of summary)
    log(
      `${s.variant}: Prosody µs/message, median of ${ROUNDS}: ${KINDS.map((k) => `${k} ${s.prosodyUsPerMessage[k]}`).join(', ')}`,
    );
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const file = join(ROOT, 'bench/results', `${stamp}-pairs-${LABEL}.json`);
  const load = (l: number[]): number[] => l.map((x) => Math.round(x * 100) / 100);
  await writeFile(
    file,
    JSON.stringify(
      {
        label: LABEL,
        date: new Date().toISOString(),
        users: USERS,
        messages: MESSAGES,
        rate: RATE,
        rounds: ROUNDS,
        loadBefore: load(load0),
        loadAfter: load(loadavg()),
        variants: summary,
      },
      null,
      2,
    ) + '\n',
  );
  log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(String((err as Error)?.stack ?? err));
    process.exit(1);
  },
);
