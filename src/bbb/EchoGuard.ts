/**
 * What Parley itself posted into BBB, remembered briefly: BBB broadcasts every message back on
 * from-akka-apps, and a message Parley posted must not be forwarded again. On 2.x the sender id (the
 * bridge user) already tells; on 3.x akka posts API messages as its system user under the name given,
 * so the broadcast is recognised by meeting, name and text.
 */
export class EchoGuard {
  readonly #sent = new Map<string, number[]>();
  constructor(
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  remember(meetingId: string, senderName: string, message: string): void {
    const key = this.#key(meetingId, senderName, message);
    this.#prune();
    this.#sent.set(key, [...(this.#sent.get(key) ?? []), this.now() + this.ttlMs]);
  }

  /** True (once per remembered send) when this broadcast is the echo of something Parley posted. */
  consume(meetingId: string, senderName: string, message: string): boolean {
    const key = this.#key(meetingId, senderName, message);
    const pending = (this.#sent.get(key) ?? []).filter((t) => t > this.now());
    if (!pending.length) {
      this.#sent.delete(key);
      return false;
    }
    pending.shift();
    if (pending.length) this.#sent.set(key, pending);
    else this.#sent.delete(key);
    return true;
  }

  #key = (m: string, s: string, t: string): string => `${m}\u0000${s}\u0000${t}`;

  #prune(): void {
    const now = this.now();
    for (const [k, times] of this.#sent) if (times.every((t) => t <= now)) this.#sent.delete(k);
  }
}
