import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

/**
 * Linux /proc readings: CPU time and memory of the processes under test. CPU time per message is
 * far steadier than wall-clock rates on a shared machine, so the report shows both.
 */

const TICK_MS = 10; // USER_HZ is 100 on Linux (sysconf(_SC_CLK_TCK)); node has no binding for it

/** utime + stime of one process in ms (0 when it is gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants (e.g. the postmaster and its backends, beam and its port programs). */
export function processTree(pid: number): number[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  const children = new Map<number, number[]>();
  for (const p of all) {
    const pp = ppidOf(p);
    if (pp === undefined) continue;
    let list = children.get(pp);
    if (!list) children.set(pp, (list = []));
    list.push(p);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** cutime + cstime: CPU of a process's children that exited and were reaped by it, in ms. */
function reapedChildrenCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * TICK_MS; // cutime, cstime (fields 16, 17)
  } catch {
    return 0;
  }
}

/**
 * CPU ms of a whole process tree, including children that have exited since (PostgreSQL's parallel
 * query workers live for one query; the postmaster reaps them, so their time is in its cutime).
 */
export function treeCpuMs(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + cpuMs(p) + reapedChildrenCpuMs(p), 0);
}

/**
 * Times the threads of `pid` were switched out (voluntary: they blocked, e.g. on epoll or a socket; and
 * involuntary), summed over /proc/PID/task. On a virtual machine a blocked process's wake-up is what costs
 * (bench/JOURNAL.md, "What a wake-up costs here"), so this counts how often each process went to sleep.
 */
export function contextSwitches(pid: number): number {
  let n = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const t of tasks) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) n += Number(m[1]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return n;
}

/**
 * contextSwitches over `pid` and its descendants (the postmaster and its backends). A backend that exits
 * between two readings takes its count with it: compare readings of a steady pool.
 */
export function treeContextSwitches(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + contextSwitches(p), 0);
}

/** Resident set size in KB (VmRSS), 0 when gone. */
export function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

export function fdLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(
    readFileSync(`/proc/${pid}/limits`, 'utf8'),
  );
  const n = (s: string | undefined): number => (s === 'unlimited' || s === undefined ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/** Busy and total CPU ms of the whole machine since boot (/proc/stat, all cores). */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy * TICK_MS, total: (busy + idle + iowait) * TICK_MS };
}

/**
 * A set of named process trees whose CPU use is measured over an interval, and the machine's: what
 * the rest of the machine (other people's work on a shared box) took meanwhile is `othersPct`.
 */
export class CpuMeter {
  #start = new Map<string, number>();
  #switches = new Map<string, number>();
  #t0 = 0;
  #machine = { busy: 0, total: 0 };
  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  begin(): void {
    this.#t0 = performance.now();
    this.#start.clear();
    this.#machine = machineCpuMs();
    this.#switches.clear();
    for (const [name, pid] of Object.entries(this.pids())) {
      if (!pid) continue;
      this.#start.set(name, treeCpuMs(pid));
      this.#switches.set(name, treeContextSwitches(pid));
    }
  }

  /**
   * CPU ms used by each tree since begin(), its context switches (treeContextSwitches), the wall time, and the
   * machine's busy share (% of all cores).
   */
  end(): {
    wallMs: number;
    cpuMs: Record<string, number>;
    switches: Record<string, number>;
    machineBusyPct: number;
    othersPct: number;
  } {
    const out: Record<string, number> = {};
    const switches: Record<string, number> = {};
    let ours = 0;
    for (const [name, pid] of Object.entries(this.pids())) {
      if (!pid || !this.#start.has(name)) continue;
      out[name] = treeCpuMs(pid) - this.#start.get(name)!;
      switches[name] = Math.max(0, treeContextSwitches(pid) - this.#switches.get(name)!);
      ours += out[name]!;
    }
    const m = machineCpuMs();
    const total = Math.max(1, m.total - this.#machine.total);
    const busy = m.busy - this.#machine.busy;
    return {
      wallMs: Math.round(performance.now() - this.#t0),
      cpuMs: out,
      switches,
      machineBusyPct: Math.round((busy / total) * 100),
      othersPct: Math.max(0, Math.round(((busy - ours) / total) * 100)),
    };
  }
}

/** Machine facts for the report: what "2 cores" was, and how busy it was. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const m = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) osName = `${m[1]} (kernel ${os.release()})`;
  } catch {
    /* keep the generic name */
  }
  return {
    os: osName,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
