import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { ENV_VARS } from '../../src/config/loadConfig.js';
import { ERROR_CODES } from '../../src/errors/codes.js';
import { OPENAPI_FILE, PROJECT_ROOT } from '../../src/paths.js';
import { anchorsOf, curlsOf, inSpec, linksOf, namedOperations } from '../helpers/docsCheck.js';

/**
 * The manual against the code: every curl in README.md, docs/ and bench/ names an operation of
 * openapi/openapi.yaml, every docs/ page is linked from README.md, and every relative link (and heading
 * anchor) resolves.
 */

const spec = parse(readFileSync(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, unknown>> };

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(p).isDirectory()) return filesUnder(p, ext);
    return p.endsWith(ext) ? [p] : [];
  });
}

const README = join(PROJECT_ROOT, 'README.md');
const DOCS = filesUnder(join(PROJECT_ROOT, 'docs'), '.md');
const PAGES = [
  README,
  join(PROJECT_ROOT, 'bench', 'README.md'),
  join(PROJECT_ROOT, 'bench', 'JOURNAL.md'),
  ...DOCS,
];
const read = (file: string) => readFileSync(file, 'utf8');
const rel = (file: string) => relative(PROJECT_ROOT, file);

describe('docs', () => {
  it('every curl names a method and path of openapi.yaml', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      for (const c of curlsOf(read(page))) {
        checked++;
        if (!c.path) problems.push(`${rel(page)}: ${c.problem}: ${c.text}`);
        else if (!inSpec(spec.paths, c.method, c.path))
          problems.push(`${rel(page)}: ${c.method} ${c.path} is not in openapi.yaml: ${c.text}`);
      }
    }
    assert.deepEqual(problems, []);
    // The reader must have found the docs' curls, not silently nothing.
    assert.ok(checked > 80, `only ${checked} curl commands found`);
  });

  it('every operation named in the prose (`GET /path`) is in openapi.yaml', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      for (const { method, path } of namedOperations(read(page))) {
        checked++;
        if (!inSpec(spec.paths, method, path) && !inSpec(spec.paths, method, `/restapi/v1${path}`))
          problems.push(`${rel(page)}: ${method} ${path}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 20, `only ${checked} operations found`);
  });

  it('keeps README.md a front door (at most 250 lines)', () => {
    const lines = read(README).split('\n').length;
    assert.ok(lines <= 250, `README.md has ${lines} lines; move detail into docs/`);
  });

  it('every docs/ page is linked from README.md', () => {
    const linked = new Set(
      linksOf(read(README))
        .filter((l) => !/^[a-z]+:/.test(l))
        .map((l) => resolve(PROJECT_ROOT, l.split('#')[0]!)),
    );
    assert.ok(DOCS.length >= 17, `docs/ has only ${DOCS.length} pages`);
    assert.deepEqual(DOCS.filter((d) => !linked.has(d)).map(rel), [], 'pages missing from README.md');
  });

  it('every relative link resolves to a file, and every anchor to a heading', () => {
    const problems: string[] = [];
    for (const page of PAGES) {
      for (const link of linksOf(read(page))) {
        if (/^[a-z]+:/.test(link)) continue; // https:, mailto:
        const [target, anchor] = link.split('#') as [string, string | undefined];
        const file = target ? resolve(dirname(page), target) : page;
        if (!existsSync(file)) {
          problems.push(`${rel(page)}: ${link} (no such file)`);
          continue;
        }
        if (anchor && file.endsWith('.md') && !anchorsOf(read(file)).has(anchor))
          problems.push(`${rel(page)}: ${link} (no such heading)`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('names only variables Parley reads, and operations.md lists every one', () => {
    const known = new Set<string>([...ENV_VARS, ...Object.keys(ERROR_CODES)]);
    // Variables of the test rig, the demo and the bench are read there, not by the gateway.
    const tooling = ['test', 'tools', 'scripts', 'bench']
      .flatMap((d) => filesUnder(join(PROJECT_ROOT, d), '.ts'))
      .map(read)
      .join('\n');
    const problems: string[] = [];
    for (const page of PAGES) {
      for (const [name] of read(page).matchAll(/\b(?:PARLEY|XMPP|DATABASE|REDIS|BBB)_[A-Z0-9_]+/g)) {
        const ok = name.endsWith('_')
          ? ENV_VARS.some((v) => v.startsWith(name)) // a family, as in PARLEY_CALLBACK_*
          : known.has(name) || tooling.includes(`process.env.${name}`);
        if (!ok) problems.push(`${rel(page)}: ${name}`);
      }
    }
    assert.deepEqual(problems, []);
    const operations = read(join(PROJECT_ROOT, 'docs', 'operations.md'));
    assert.deepEqual(
      ENV_VARS.filter((v) => !operations.includes(`\`${v}\``)),
      [],
      'variables missing from docs/operations.md',
    );
  });

  describe('the checker itself', () => {
    const page = (sh: string) => '# t\n\n```sh\n' + sh + '\n```\n';

    it('follows variables, continuations and quotes to method and path', () => {
      const curls = curlsOf(
        page(
          [
            'P=http://127.0.0.1:8080; A="Authorization: Bearer $TOKEN"; C=$P/restapi/v1/chat/$STREAM',
            `curl -s -X PUT -H "$A" -H 'Content-Type: application/json' \\`,
            `     -d '{"a":1,`,
            `  "b":2}' "$C/rooms/team?nick=Alice"   # → 201`,
            '# curl -X DELETE $P/ignored',
            `curl -s -H "$A" -d "{\\"x\\": \\"$(sign "a b")\\"}" $C/messages/bob`,
          ].join('\n'),
        ),
      );
      assert.deepEqual(
        curls.map((c) => `${c.method} ${c.path}`),
        ['PUT /restapi/v1/chat/{}/rooms/team', 'POST /restapi/v1/chat/{}/messages/bob'],
      );
      assert.ok(inSpec(spec.paths, 'PUT', curls[0]!.path!));
    });

    it('refuses a path, a method or a URL the spec does not have', () => {
      const [wrongPath, wrongMethod, noUrl] = curlsOf(
        page(
          [
            'P=http://127.0.0.1:8080',
            'curl -s $P/restapi/v1/chat/$STREAM/mesages/bob',
            'curl -s -X PATCH $P/restapi/v1/chat/$STREAM/logoff',
            'curl -N "$EVENTS&token=$TOKEN"',
          ].join('\n'),
        ),
      );
      assert.equal(inSpec(spec.paths, wrongPath!.method, wrongPath!.path!), false);
      assert.equal(inSpec(spec.paths, wrongMethod!.method, wrongMethod!.path!), false);
      assert.equal(noUrl!.path, undefined);
    });

    it('reads anchors as GitHub makes them', () => {
      const a = anchorsOf(
        '# A (b, C 12)\n## 1. Upload\n## `x.y`: z\n## A (b, C 12)\n```sh\n# not a heading\n```\n',
      );
      assert.deepEqual([...a], ['a-b-c-12', '1-upload', 'xy-z', 'a-b-c-12-1']);
    });
  });
});
