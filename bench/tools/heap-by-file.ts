import { readFileSync } from 'node:fs';

/**
 * What N more sessions cost on the V8 heap, by kind of object and by the source file that created
 * each closure. Take two snapshots of the gateway (start it with --heapsnapshot-signal=SIGUSR2,
 * `kill -USR2 <pid>` before and after logging N users in), then:
 *
 *   node --max-old-space-size=8000 --import tsx bench/tools/heap-by-file.ts before.heapsnapshot after.heapsnapshot N
 */

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Tally {
  byKind: Map<string, { n: number; bytes: number }>;
  closuresByFile: Map<string, number>;
  total: number;
}

function shortFile(url: string): string {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)/.exec(url);
  if (nm) return `${nm[1]}/${nm[2]!.split('/').pop()}`;
  const src = /\/(src\/.*)$/.exec(url);
  return src ? src[1]! : url || '(no script: bound or native function)';
}

function tally(file: string): Tally {
  const h = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const m = h.snapshot.meta;
  const nf = m.node_fields.length;
  const ef = m.edge_fields.length;
  const [ntypes] = m.node_types;
  const [etypes] = m.edge_types;
  const iT = m.node_fields.indexOf('type'),
    iN = m.node_fields.indexOf('name'),
    iS = m.node_fields.indexOf('self_size'),
    iE = m.node_fields.indexOf('edge_count');
  const { nodes, edges, strings } = h;
  const count = nodes.length / nf;
  const first = new Int32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    first[i] = e;
    e += nodes[i * nf + iE]! * ef;
  }
  first[count] = edges.length;
  const edgeTo = (ni: number, name: string): number | undefined => {
    for (let e = first[ni]!; e < first[ni + 1]!; e += ef) {
      const t = etypes[edges[e]!];
      if (t !== 'element' && t !== 'hidden' && strings[edges[e + 1]!] === name) return edges[e + 2]! / nf;
    }
    return undefined;
  };
  const byKind = new Map<string, { n: number; bytes: number }>();
  const closuresByFile = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < count; i++) {
    const type = ntypes[nodes[i * nf + iT]!]!;
    const name = strings[nodes[i * nf + iN]!]!;
    const size = nodes[i * nf + iS]!;
    total += size;
    // Internal arrays by what holds them: (object properties), (object elements), (context table) …
    const kind = /string/.test(type)
      ? '(strings)'
      : type === 'object'
        ? name.slice(0, 50)
        : type === 'array'
          ? `(array) ${name.slice(0, 40)}`
          : `(${type})`;
    const k = byKind.get(kind) ?? { n: 0, bytes: 0 };
    k.n++;
    k.bytes += size;
    byKind.set(kind, k);
    if (type === 'closure') {
      const sfi = edgeTo(i, 'shared');
      const script =
        sfi === undefined ? undefined : (edgeTo(sfi, 'script_or_debug_info') ?? edgeTo(sfi, 'script'));
      const f = shortFile(script === undefined ? '' : strings[nodes[script * nf + iN]!]!);
      closuresByFile.set(f, (closuresByFile.get(f) ?? 0) + 1);
    }
  }
  return { byKind, closuresByFile, total };
}

const [before, after, nArg] = process.argv.slice(2);
if (!before || !after) {
  process.stderr.write('usage: heap-by-file.ts before.heapsnapshot after.heapsnapshot N\n');
  process.exit(2);
}
const n = Number(nArg ?? 1);
const a = tally(before);
const b = tally(after);
console.log(
  `heap ${(a.total / 2 ** 20).toFixed(1)} → ${(b.total / 2 ** 20).toFixed(1)} MB: ${((b.total - a.total) / n / 1024).toFixed(1)} KB per session\n`,
);
console.log('bytes/session  objects/session  kind');
for (const [k, v] of [...b.byKind]
  .map(
    ([k, v]) =>
      [k, { n: v.n - (a.byKind.get(k)?.n ?? 0), bytes: v.bytes - (a.byKind.get(k)?.bytes ?? 0) }] as const,
  )
  .sort((x, y) => y[1].bytes - x[1].bytes)
  .slice(0, 25)) {
  console.log(`${(v.bytes / n).toFixed(0).padStart(13)}  ${(v.n / n).toFixed(1).padStart(15)}  ${k}`);
}
console.log('\nclosures/session  created in');
for (const [f, c] of [...b.closuresByFile]
  .map(([f, c]) => [f, c - (a.closuresByFile.get(f) ?? 0)] as const)
  .filter(([, c]) => c > 0)
  .sort((x, y) => y[1] - x[1])
  .slice(0, 30)) {
  console.log(`${(c / n).toFixed(1).padStart(16)}  ${f}`);
}
