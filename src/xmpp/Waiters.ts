import type { Element } from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';

/**
 * Waiting for a stanza that answers something sent without an IQ (a room's self-presence after a join,
 * a workgroup's presence after agent presence). `feed` offers each inbound stanza to the waiters;
 * the first waiter whose matcher returns a value takes it.
 */
type Matcher<T> = (stanza: Element) => T | undefined;

export class Waiters {
  readonly #waiting = new Set<{ match: Matcher<unknown>; resolve: (v: unknown) => void }>();

  wait<T>(match: Matcher<T>, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = {
        match: match as Matcher<unknown>,
        resolve: (v: unknown) => {
          clearTimeout(timer);
          this.#waiting.delete(entry);
          resolve(v as T);
        },
      };
      const timer = setTimeout(() => {
        this.#waiting.delete(entry);
        reject(new BridgeError('XMPP_TIMEOUT', `no answer to the ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.add(entry);
    });
  }

  /** true when a waiter took the stanza */
  feed(stanza: Element): boolean {
    for (const w of this.#waiting) {
      const v = w.match(stanza);
      if (v !== undefined) {
        w.resolve(v);
        return true;
      }
    }
    return false;
  }
}

/** The `<error/>` of an answer stanza as the error table reads it (RFC 6120 §8.3). */
export function readStanzaError(s: Element): { condition: string; text?: string } {
  const error = s.getChild('error');
  const condition = error?.children.find((c): c is Element => typeof c !== 'string' && c.name !== 'text');
  return {
    condition: condition?.name ?? 'undefined-condition',
    text: error?.getChildText('text') ?? undefined,
  };
}
