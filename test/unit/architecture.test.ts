import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/**
 * Feature folders: each owns its routes, SQL and stanza handling. Another folder may use a feature only
 * through the feature's public entry (PUBLIC); shared layers (xmpp/, sse/, errors/, …) are not features.
 */
const FEATURES = ['attachments', 'bbb', 'calls', 'chat', 'contacts', 'moderation', 'rooms', 'workgroup'];
const PUBLIC = ['index.ts', 'ports.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative import of a file (value, `import type`, re-exports and dynamic imports), as src paths. */
function importsOf(file: string): string[] {
  return specifiersOf(readFileSync(file, 'utf8'))
    .filter((spec) => spec.startsWith('.'))
    .map((spec) =>
      resolve(dirname(file), spec)
        .replace(/\.js$/, '.ts')
        .replace(/\.mjs$/, '.mts'),
    );
}

function specifiersOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

function buildGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    graph.set(
      relative(SRC, file),
      importsOf(file).map((f) => relative(SRC, f)),
    );
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself): Tarjan. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

/** One concrete loop inside a component, for the failure message: a → b → … → a. */
function loopIn(graph: Map<string, string[]>, scc: string[]): string {
  const members = new Set(scc);
  const start = scc[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.splice(1, 0, u);
        return [...path, start].join(' → ');
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return scc.join(', ');
}

const featureOf = (path: string): string | undefined => {
  const top = path.split('/')[0]!;
  return path.includes('/') && FEATURES.includes(top) ? top : undefined;
};

describe('architecture (import graph of src/)', () => {
  const graph = buildGraph();

  it('resolves every relative import to a file in src/', () => {
    const missing = [...graph].flatMap(([from, tos]) =>
      tos.filter((to) => !graph.has(to) && !to.endsWith('.d.ts')).map((to) => `${from} → ${to}`),
    );
    // A missing file would hide its edges from the checks below.
    assert.deepEqual(
      missing.filter((m) => !m.endsWith('.mjs')),
      [],
    );
  });

  it('has no import cycle, type-only imports included', () => {
    const found = cycles(graph).map((scc) => `${loopIn(graph, scc)}   [${scc.length} files]`);
    assert.deepEqual(found, [], `import cycles:\n  ${found.join('\n  ')}`);
  });

  it('imports another feature only through its public entry (index.ts or ports.ts)', () => {
    const offending = [...graph].flatMap(([from, tos]) =>
      tos
        .filter((to) => {
          const target = featureOf(to);
          if (!target || target === featureOf(from)) return false;
          return !PUBLIC.includes(to.slice(target.length + 1));
        })
        .map((to) => `${from} → ${to}`),
    );
    assert.deepEqual(offending, [], `cross-feature imports of internals:\n  ${offending.join('\n  ')}`);
  });

  it('finds the cycles and cross-feature imports it is meant to find', () => {
    const fake = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    assert.deepEqual(cycles(fake), [['a.ts', 'b.ts', 'c.ts']]);
    assert.equal(loopIn(fake, ['a.ts', 'b.ts', 'c.ts']), 'a.ts → b.ts → c.ts → a.ts');
    assert.equal(featureOf('chat/ChatService.ts'), 'chat');
    assert.equal(featureOf('features.ts'), undefined);
    const text = [
      "import type { A } from './a.js';",
      "import { type B } from './b.js';",
      "export type { C } from './c.js';",
      "export * from './d.js';",
      "const e = await import('./e.js');",
    ].join('\n');
    assert.deepEqual(specifiersOf(text), ['./a.js', './b.js', './c.js', './d.js', './e.js']);
  });
});
