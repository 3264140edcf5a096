import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a ticket opens its stream: enough for a page to turn the answer into an EventSource. */
export const TICKET_SECONDS = 60;
const PURPOSE = 'parley/events/v1';

export interface Ticket {
  ticket: string;
  expiresIn: number;
}

/**
 * Short-lived, single-purpose credentials for event streams (`GET …/chat/{streamid}/events?ticket=`, the
 * visitor's `/ask/{userId}/events`, the admin monitor): EventSource cannot send an Authorization header, and
 * a token in a URL ends up in access logs, proxies and browser history for as long as the token lives. A
 * ticket only opens the one stream it was issued for, for TICKET_SECONDS, once. Streams are named by
 * strings that cannot collide (a chat stream id `ps_…`, `ask:<request>`, `admin-monitor:…`), so a ticket
 * for one kind of stream never opens another.
 *
 * Stateless (HMAC with a key derived from the master secret), so any gateway instance of a cluster can
 * check a ticket another instance issued; "once" is enforced per instance (the nonces it has seen), which
 * leaves at most the other instances a replay within the minute.
 */
export class StreamTickets {
  readonly #key: Buffer;
  readonly #used = new Map<string, number>();

  constructor(
    secret: string,
    private readonly now: () => number = Date.now,
  ) {
    this.#key = createHmac('sha256', secret).update('parley stream ticket key').digest();
  }

  issue(streamId: string): Ticket {
    const exp = Math.floor(this.now() / 1000) + TICKET_SECONDS;
    const nonce = randomBytes(12).toString('base64url');
    const body = `${exp}.${nonce}`;
    return { ticket: `${body}.${this.#mac(streamId, body)}`, expiresIn: TICKET_SECONDS };
  }

  /** True once for a valid, unexpired ticket issued for `streamId`; false for anything else. */
  redeem(ticket: string, streamId: string): boolean {
    const m = /^(\d{1,12})\.([\w-]{16})\.([\w-]{43})$/.exec(ticket);
    if (!m) return false;
    const [, expRaw, nonce, mac] = m as unknown as [string, string, string, string];
    const expected = Buffer.from(this.#mac(streamId, `${expRaw}.${nonce}`), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    // The 43rd character carries 4 bits of the MAC and 2 spare ones that decoding drops: only the
    // canonical spelling counts, so a ticket has exactly one form (and one nonce entry).
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    if (given.toString('base64url') !== mac) return false;
    const exp = Number(expRaw) * 1000;
    const now = this.now();
    if (exp <= now) return false;
    this.#forgetExpired(now);
    if (this.#used.has(nonce)) return false;
    this.#used.set(nonce, exp);
    return true;
  }

  #mac(streamId: string, body: string): string {
    return createHmac('sha256', this.#key).update(`${PURPOSE}|${streamId}|${body}`).digest('base64url');
  }

  #forgetExpired(now: number): void {
    // Insertion order is redemption order, so the expired ones are (nearly) all at the front.
    for (const [nonce, exp] of this.#used) {
      if (exp > now) break;
      this.#used.delete(nonce);
    }
  }
}
