import { readFile } from 'node:fs/promises';

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function and per module, within
 * time windows. Sample timestamps are CLOCK_MONOTONIC µs, the same clock as process.hrtime(), so the
 * runner's scenario windows select the samples taken while that scenario ran.
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  where: string;
  selfMs: number;
  pct: number;
}
export interface ProfileSummary {
  windowMs: number;
  sampledMs: number;
  idlePct: number;
  functions: HotSpot[];
  modules: HotSpot[];
  /** busy time by the nearest package or src/ file on the stack: who caused the native work (socket writes, parsing) */
  attributed: HotSpot[];
}

export type Window = [startUs: number, endUs: number];

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
export function windowStart(): number {
  return nowUs();
}
export function windowEnd(start: number): Window {
  return [start, nowUs()];
}

function moduleOf(url: string): string {
  if (!url) return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/(src\/.*)$/.exec(url);
  if (src) return src[1]!.replace(/\.[tj]s$/, '');
  if (url.startsWith('node:')) return url;
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
}

export async function summarizeProfile(file: string, windows: Window[], top = 15): Promise<ProfileSummary> {
  const p = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const attributedTo = new Map<number, string>();
  const attribute = (id: number): string => {
    const cached = attributedTo.get(id);
    if (cached) return cached;
    let cur: number | undefined = id;
    let found = '(node internals / V8 only)';
    while (cur !== undefined) {
      const url = byId.get(cur)?.callFrame.url ?? '';
      if (url.includes('node_modules/') || url.includes('/src/')) {
        found = moduleOf(url);
        break;
      }
      cur = parent.get(cur);
    }
    attributedTo.set(id, found);
    return found;
  };
  const attr = new Map<string, number>();
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const mod = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  let idle = 0;
  const inWindow = (ts: number): boolean =>
    windows.length === 0 || windows.some(([a, b]) => ts >= a && ts <= b);
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    const dt = p.timeDeltas[i + 1] ?? 0; // a sample's weight: the time until the next one
    if (!inWindow(t)) continue;
    const node = byId.get(p.samples[i]!);
    if (!node) continue;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const where = url ? `${moduleOf(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}|${where}`;
    const e = fn.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    e.us += dt;
    fn.set(key, e);
    const m = functionName.startsWith('(') && !url ? functionName : moduleOf(url);
    mod.set(m, (mod.get(m) ?? 0) + dt);
    const a =
      functionName === '(garbage collector)' || functionName === '(program)'
        ? functionName
        : attribute(node.id);
    attr.set(a, (attr.get(a) ?? 0) + dt);
  }
  const busy = Math.max(1, total - idle);
  const pct = (us: number): number => Math.round((us / busy) * 1000) / 10;
  const windowMs = windows.reduce((s, [a, b]) => s + (b - a) / 1000, 0);
  return {
    windowMs: Math.round(windowMs),
    sampledMs: Math.round(total / 1000),
    idlePct: Math.round((idle / Math.max(1, total)) * 1000) / 10,
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfMs: Math.round(e.us / 1000), pct: pct(e.us) })),
    modules: [...mod.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, where: '', selfMs: Math.round(us / 1000), pct: pct(us) })),
    attributed: [...attr.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, where: '', selfMs: Math.round(us / 1000), pct: pct(us) })),
  };
}
