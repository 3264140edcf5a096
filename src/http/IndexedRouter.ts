import Router, { type Layer, type MatchResult } from '@koa/router';

/**
 * @koa/router tests every layer's regular expression on every request: with the ~140 routes of all
 * features that was ~4 % of the gateway's CPU per sent message in a perf profile (~12 µs per match
 * alone; bench/JOURNAL.md, "Per-request costs"). Most routes are `/restapi/v1/chat/:streamid/…`, so a literal
 * prefix alone rules few out; a template made of whole segments (each literal or one `:param`) can only match
 * a path with as many segments and the same literals, so each layer's regexp runs only when the path passes
 * that cheap test (other templates: the literal prefix). Same layers, same order, same result as the
 * library's `match`.
 */
export class IndexedRouter extends Router {
  /** per segment count: the whole-segment layers of that many segments and every other layer, in order */
  #bySize = new Map<number, Indexed[]>();
  #others: Indexed[] = [];
  #indexedStack: Layer[] | undefined;
  #indexedLength = -1;

  override match(path: string, method: string): MatchResult {
    const result: MatchResult = { path: [], pathAndMethod: [], route: false };
    const lower = path.toLowerCase();
    const parts = segmentsOf(lower);
    const normalizedMethod = method.toUpperCase();
    for (const { layer, prefix, segments } of this.#candidates(parts.length)) {
      if (segments ? !fits(segments, parts) : prefix && !lower.startsWith(prefix)) continue;
      if (!layer.match(path)) continue;
      result.path.push(layer);
      if (layer.methods.length === 0 || layer.methods.includes(normalizedMethod)) {
        result.pathAndMethod.push(layer);
        if (layer.methods.length > 0) result.route = true;
      }
    }
    return result;
  }

  override prefix(prefixPath: string): this {
    super.prefix(prefixPath);
    this.#indexedLength = -1; // every layer's path changed
    return this;
  }

  #candidates(size: number): Indexed[] {
    // Routes are added after construction (and nested routers copy theirs in): index what is there now.
    if (this.#indexedStack !== this.stack || this.#indexedLength !== this.stack.length) {
      const all: Indexed[] = this.stack.map((layer) => ({
        layer,
        prefix: literalPrefix(layer),
        segments: templateSegments(layer),
      }));
      const sizes = new Set(all.flatMap((x) => (x.segments ? [x.segments.length] : [])));
      this.#bySize = new Map(
        [...sizes].map((n) => [n, all.filter((x) => !x.segments || x.segments.length === n)]),
      );
      this.#others = all.filter((x) => !x.segments);
      this.#indexedStack = this.stack;
      this.#indexedLength = this.stack.length;
    }
    return this.#bySize.get(size) ?? this.#others;
  }
}

interface Indexed {
  layer: Layer;
  prefix: string;
  /** whole-segment templates: each segment's literal text (lower-cased), or null for a parameter */
  segments: (string | null)[] | undefined;
}

/** A path's segments; one trailing slash is optional (the router's default), so it is not a segment. */
export function segmentsOf(path: string): string[] {
  const parts = path.split('/');
  if (parts.length > 2 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function fits(template: (string | null)[], parts: string[]): boolean {
  if (template.length !== parts.length) return false;
  for (let i = 0; i < template.length; i++) {
    const literal = template[i];
    if (literal === null ? parts[i] === '' : parts[i] !== literal) return false;
  }
  return true;
}

const PARAM = /^:[A-Za-z_$][\w$]*$/;

/**
 * The segments of a template that is only literal segments and whole-segment `:param`s, matched the default
 * way (to the end, one trailing slash optional); undefined for any other (wildcards, groups, escapes, a
 * parameter inside a segment, an empty segment, a regexp, strict or prefix-only layers).
 */
export function templateSegments(layer: Pick<Layer, 'path' | 'opts'>): (string | null)[] | undefined {
  const { path, opts } = layer;
  if (typeof path !== 'string' || opts.pathAsRegExp === true) return undefined;
  if (opts.end === false || opts.strict === true || opts.trailing === false) return undefined;
  if (!path.startsWith('/') || /[*{}\\()[\]?+!]/.test(path)) return undefined;
  const parts = path.toLowerCase().split('/').slice(1);
  if (parts.some((p) => p === '' || (p.includes(':') && !PARAM.test(p)))) return undefined;
  return ['', ...parts.map((p) => (p.startsWith(':') ? null : p))];
}

/**
 * The text every path a layer matches starts with, lower-cased: what precedes the first parameter,
 * wildcard, optional group or escape in a path-to-regexp (v8) template. '' (test always) for regexp paths.
 * Lower-casing both sides keeps it a necessary condition whether the layer is case-sensitive or not.
 */
export function literalPrefix(layer: Pick<Layer, 'path' | 'opts'>): string {
  if (typeof layer.path !== 'string' || layer.opts.pathAsRegExp === true) return '';
  const end = layer.path.search(/[:*{\\]/);
  return (end < 0 ? layer.path : layer.path.slice(0, end)).toLowerCase();
}
