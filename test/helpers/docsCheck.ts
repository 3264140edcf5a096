/**
 * What test/unit/docs.test.ts checks in the Markdown: the curl commands of the shell blocks (method and
 * path, with shell variables followed through the page) and the relative links (file, and heading anchor).
 * A small shell reader, enough for the docs' curls: quotes, `\` line continuations, `$(…)`, comments,
 * `NAME=value` assignments; not a shell.
 */

export interface Curl {
  /** the command as written, for messages */
  text: string;
  method: string;
  /** the URL's path, `{}` where a segment is a variable the page never set */
  path: string | undefined;
  problem?: string;
}

/** Fenced code blocks in a shell language (sh, bash, shell, console), in page order. */
export function shellBlocks(md: string): string[] {
  const blocks: string[] = [];
  const re = /^```(\w*)[^\n]*\n([\s\S]*?)^```/gm;
  for (let m = re.exec(md); m; m = re.exec(md)) {
    if (['sh', 'bash', 'shell', 'console'].includes(m[1]!)) blocks.push(m[2]!);
  }
  return blocks;
}

/** Reads a quoted or `$(…)` stretch starting at s[i] (the opening character); returns the index after it. */
function skipQuoted(s: string, i: number): number {
  const open = s[i];
  if (open === "'") {
    const end = s.indexOf("'", i + 1);
    return end < 0 ? s.length : end + 1;
  }
  if (open === '"') {
    let j = i + 1;
    while (j < s.length && s[j] !== '"') {
      if (s[j] === '\\') j += 2;
      else if (s.startsWith('$(', j)) j = skipQuoted(s, j + 1);
      else j++;
    }
    return j + 1;
  }
  // '(' of `$(`: to the matching ')', quotes inside respected
  let depth = 0;
  let j = i;
  while (j < s.length) {
    const c = s[j]!;
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j + 1;
    else if (c === "'" || c === '"') {
      j = skipQuoted(s, j);
      continue;
    }
    j++;
  }
  return j;
}

/** Splits a shell block into commands (newline, `;`, `&&`, `||`, `|`), comments and continuations removed. */
export function splitCommands(block: string): string[] {
  const commands: string[] = [];
  let cur = '';
  const flush = () => {
    if (cur.trim()) commands.push(cur.trim());
    cur = '';
  };
  for (let i = 0; i < block.length;) {
    const c = block[i]!;
    if (c === '\\' && block[i + 1] === '\n') {
      cur += ' ';
      i += 2;
    } else if (c === '\\') {
      cur += block.slice(i, i + 2);
      i += 2;
    } else if (c === "'" || c === '"' || (c === '$' && block[i + 1] === '(')) {
      const start = c === '$' ? i + 1 : i;
      const end = skipQuoted(block, start);
      cur += block.slice(i, end);
      i = end;
    } else if (c === '#' && (cur === '' || /\s$/.test(cur))) {
      const nl = block.indexOf('\n', i);
      i = nl < 0 ? block.length : nl;
    } else if (c === '\n' || c === ';' || c === '|' || (c === '&' && block[i + 1] === '&')) {
      flush();
      i += c === '&' || (c === '|' && block[i + 1] === '|') ? 2 : 1;
    } else {
      cur += c;
      i++;
    }
  }
  flush();
  return commands;
}

/** A variable the page never set: in a path it stands for one segment, anywhere else it is an error. */
export const UNKNOWN = '\u0001';

/** Words of one command, with `$NAME` / `${NAME}` expanded from vars (single quotes literal). */
export function words(command: string, vars: Map<string, string>): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  const expand = (s: string, i: number): [string, number] => {
    if (s[i + 1] === '(') {
      return [UNKNOWN, skipQuoted(s, i + 1)];
    }
    const m = /^\$(?:\{(\w+)\}|(\w+))/.exec(s.slice(i));
    if (!m) return ['$', i + 1];
    const name = m[1] ?? m[2]!;
    return [vars.get(name) ?? UNKNOWN, i + m[0].length];
  };
  for (let i = 0; i < command.length;) {
    const c = command[i]!;
    if (/\s/.test(c)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
      i++;
    } else if (c === "'") {
      const end = skipQuoted(command, i);
      cur = (cur ?? '') + command.slice(i + 1, end - 1);
      i = end;
    } else if (c === '"') {
      cur ??= '';
      let j = i + 1;
      while (j < command.length && command[j] !== '"') {
        if (command[j] === '\\') {
          cur += command[j + 1] ?? '';
          j += 2;
        } else if (command[j] === '$') {
          const [v, next] = expand(command, j);
          cur += v;
          j = next;
        } else cur += command[j++];
      }
      i = j + 1;
    } else if (c === '$') {
      const [v, next] = expand(command, i);
      cur = (cur ?? '') + v;
      i = next;
    } else if (c === '\\') {
      cur = (cur ?? '') + (command[i + 1] ?? '');
      i += 2;
    } else {
      cur = (cur ?? '') + c;
      i++;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

const WITH_VALUE = new Set(
  '-H --header -d --data --data-binary --data-raw --data-urlencode -F --form -X --request -u --user -o --output -A -e -b -c -T --upload-file -w -m --max-time --connect-timeout --cacert -E --url'.split(
    ' ',
  ),
);
const SENDS_BODY = new Set('-d --data --data-binary --data-raw --data-urlencode -F --form'.split(' '));

/** Method and path of one curl command (words after `curl`). */
export function readCurl(text: string, args: string[]): Curl {
  let method: string | undefined;
  let body = false;
  let head = false;
  const urls: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (WITH_VALUE.has(a)) {
      const v = args[++i] ?? '';
      if (a === '-X' || a === '--request') method = v.toUpperCase();
      if (SENDS_BODY.has(a)) body = true;
      if (a === '-T' || a === '--upload-file') method ??= 'PUT';
      if (a === '--url') urls.push(v);
    } else if (a === '-I' || a === '--head') head = true;
    else if (a.startsWith('-'))
      continue; // flags such as -s -N -i -L
    else if (a !== '…' && a !== '...') urls.push(a);
  }
  method ??= head ? 'HEAD' : body ? 'POST' : 'GET';
  if (urls.length !== 1)
    return { text, method, path: undefined, problem: `expected one URL, found ${urls.length}` };
  const url = urls[0]!;
  const m = /^(?:https?:\/\/[^/?#\s]+)?(\/[^?#\s]*)/.exec(url);
  if (!m || m[1]!.split('/')[1]?.includes(UNKNOWN)) {
    return {
      text,
      method,
      path: undefined,
      problem: `cannot tell the path of ${url.replaceAll(UNKNOWN, '$?')}`,
    };
  }
  const path = m[1]!.replace(/\/+$/, '') || '/';
  return { text, method, path: path.replaceAll(UNKNOWN, '{}') };
}

/** Every curl of a page's shell blocks; variables carry over from block to block within the page. */
export function curlsOf(md: string): Curl[] {
  const vars = new Map<string, string>();
  const found: Curl[] = [];
  for (const block of shellBlocks(md)) {
    for (const command of splitCommands(block)) {
      const w = words(command, vars);
      let k = 0;
      for (; k < w.length && /^[A-Za-z_]\w*=/.test(w[k]!); k++) {
        const eq = w[k]!.indexOf('=');
        vars.set(w[k]!.slice(0, eq), w[k]!.slice(eq + 1));
      }
      if (w[k] === 'curl') found.push(readCurl(command, w.slice(k + 1)));
    }
  }
  return found;
}

/** Whether `METHOD path` is an operation of the spec (`{param}` templates match one non-empty segment). */
export function inSpec(
  paths: Record<string, Record<string, unknown>>,
  method: string,
  path: string,
): boolean {
  const segs = path.split('/');
  return Object.entries(paths).some(([template, item]) => {
    if (!(method.toLowerCase() in item)) return false;
    const t = template.split('/');
    if (t.length !== segs.length) return false;
    return t.every((s, i) => {
      const seg = segs[i]!;
      if (/^\{[^}]+\}$/.test(s)) return seg !== '';
      return s === seg;
    });
  });
}

/** Markdown without fenced code blocks and inline code (where links and headings are not links and headings). */
function prose(md: string): string {
  return md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** Link targets of the page's prose: `[text](target)` and `![alt](target)`. */
export function linksOf(md: string): string[] {
  const out: string[] = [];
  const re = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
  const text = prose(md);
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]!);
  return out;
}

/** GitHub's heading anchors of a page (lower case, punctuation dropped, spaces as `-`, repeats numbered). */
export function anchorsOf(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const headings = md
    .replace(/^```[\s\S]*?^```/gm, '')
    .split('\n')
    .filter((l) => /^#{1,6} /.test(l));
  for (const h of headings) {
    const text = h
      .replace(/^#+ /, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase();
    const base = text.replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/**
 * Operations named in prose as code, `GET /path` (query, `[…]` options and a trailing `\` cut off). Paths
 * written short, as `/admin/…` or `/ask`, are under `/restapi/v1`; the caller tries both.
 */
export function namedOperations(md: string): { method: string; path: string }[] {
  const text = md.replace(/^```[\s\S]*?^```/gm, '');
  const out: { method: string; path: string }[] = [];
  for (const m of text.matchAll(/`(GET|POST|PUT|DELETE|PATCH|HEAD) (\/[^`\s]*)`/g)) {
    const path = m[2]!.split(/[?[\\]/)[0]!.replace(/\/+$/, '') || '/';
    if (!path.includes('…')) out.push({ method: m[1]!, path });
  }
  return out;
}
