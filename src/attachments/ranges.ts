/**
 * HTTP range and validator decisions for the file server (RFC 9110 §13–§14), on jshttp's parsers:
 * which part of a file to send, and whether the client's cached copy is still good.
 */
import contentDispositionHeader from 'content-disposition';
import fresh from 'fresh';
import rangeParser from 'range-parser';

export type RangeResult =
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const SUFFIX = /^bytes=\s*-\s*[1-9]\d*\s*$/;

/**
 * One `bytes=` range (`a-b`, `a-`, `-n`). Several ranges would need multipart/byteranges, which players
 * and download managers do not need: we answer those, and anything malformed or in another unit, with
 * the whole file (RFC 9110 §14.2 allows ignoring Range). Ranges that cannot be satisfied answer 416.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'full' };
  const ranges = rangeParser(size, header, { combine: true });
  if (ranges === -2) return { kind: 'full' };
  if (ranges === -1) {
    // range-parser refuses a suffix longer than the file; RFC 9110 §14.1.2 says it means the whole file.
    return size > 0 && SUFFIX.test(header)
      ? { kind: 'partial', start: 0, end: size - 1 }
      : { kind: 'unsatisfiable' };
  }
  if (ranges.type !== 'bytes' || ranges.length !== 1) return { kind: 'full' };
  return { kind: 'partial', start: ranges[0]!.start, end: ranges[0]!.end };
}

/**
 * Conditional GET: If-None-Match (weak comparison, lists, `*`), else If-Modified-Since; true when a 304
 * will do. The request's Cache-Control is left out: it speaks to caches, while an origin evaluates
 * preconditions regardless (RFC 9110 §13.2.1) — and fetch() adds `no-cache` to every request that sets
 * If-None-Match by hand, which `fresh` would otherwise answer with the whole file.
 */
export function notModified(
  request: Record<string, string | string[] | undefined>,
  validators: { etag: string; lastModified: string },
): boolean {
  const conditions = {
    'if-none-match': request['if-none-match'],
    'if-modified-since': request['if-modified-since'],
  };
  return fresh(conditions, { etag: validators.etag, 'last-modified': validators.lastModified });
}

/** If-Range: honour Range only when the client's validator is our (strong) ETag. */
export function rangeStillValid(ifRange: string | undefined, etag: string): boolean {
  return !ifRange || ifRange.trim() === etag;
}

/** RFC 6266 Content-Disposition, with an ISO-8859-1 fallback `filename` and the UTF-8 `filename*`. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  return contentDispositionHeader(name, { type: kind });
}
