/**
 * What a file is, from its first bytes (never from the client's Content-Type or file name: an executable
 * renamed .png must not be served as an image), and whether the configured list allows it.
 */
import { fileTypeFromBuffer } from 'file-type';

/** file-type reads at most this much of the head (its own `minimumBytes` is 4100). */
export const SNIFF_BYTES = 4100;

export interface Sniffed {
  type: string;
  ext: string;
}

export async function sniff(head: Uint8Array): Promise<Sniffed> {
  const found = await fileTypeFromBuffer(head);
  if (found) return { type: found.mime, ext: found.ext };
  // No magic number: plain text is the common case (notes, logs, CSV) and is safe to accept as such.
  return looksLikeText(head)
    ? { type: 'text/plain', ext: 'txt' }
    : { type: 'application/octet-stream', ext: 'bin' };
}

/** UTF-8 without NUL bytes; a multi-byte character cut off at the end of the head is fine. */
export function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0 || head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** `allowed` holds media types and `type/*` wildcards (PARLEY_ALLOWED_TYPES); `*\/*` allows anything. */
export function isAllowed(type: string, allowed: readonly string[]): boolean {
  const [major] = type.split('/');
  return allowed.some((a) => a === '*/*' || a === type || (a.endsWith('/*') && a.slice(0, -2) === major));
}
