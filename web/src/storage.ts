/**
 * Web storage that may be missing: a cross-site iframe (the embed) can be denied it, which throws on access.
 * Then values live in memory for this page only.
 */
const memory = new Map<string, string>();
type Kind = 'session' | 'local';

function area(kind: Kind): Storage | undefined {
  try {
    return kind === 'local' ? window.localStorage : window.sessionStorage;
  } catch {
    return undefined;
  }
}

export const storage = {
  get(key: string, kind: Kind = 'session'): string | null {
    try {
      return area(kind)?.getItem(key) ?? memory.get(key) ?? null;
    } catch {
      return memory.get(key) ?? null;
    }
  },
  set(key: string, value: string, kind: Kind = 'session'): void {
    memory.set(key, value);
    try {
      area(kind)?.setItem(key, value);
    } catch {
      /* memory only */
    }
  },
};
