import xml, { type Element } from '@xmpp/xml';
import { NS } from '../ns.js';

/**
 * How long an XEP-0198 `<a/>` answer may wait for a stanza of ours to travel with. Prosody asks again
 * only once answered (mod_smacks `awaiting_ack`) and merely fires an event after 30 s without one, so a
 * short wait costs nothing but a later trim of its resend queue — and turns one `<r/>` + `<a/>` per
 * stanza into about one per this interval per busy session.
 */
export const ACK_ANSWER_MS = 100;

/** What the coalescing needs of an @xmpp/connection entity (the client fits). */
export interface Writable {
  status: string;
  socket?: { cork?(): void; uncork?(): void; writableCorked?: number } | null;
  write(s: string): Promise<void>;
  send(el: Element): Promise<void>;
  /** calls `fn` with the entity as `this`, as an EventEmitter does */
  on(event: 'disconnect', fn: (this: Writable) => void): unknown;
}

/**
 * Fewer system calls per stanza. On these machines a socket write costs more than building the stanza
 * (issue 17: ~40 % of the gateway's busy time was writev/write), and Parley's stanzas come in bursts:
 * - every write of one event-loop turn leaves as one: the socket is corked at the first write of a turn
 *   and uncorked by setImmediate (after the poll phase, so stanzas written from every socket event and
 *   promise of that turn share it);
 * - an `<a/>` answer to the server's `<r/>` waits up to ACK_ANSWER_MS and goes out in front of the next
 *   thing written (a stanza, or the stream's close: the final ack is never lost), carrying the count
 *   handled by then (`h` may only grow; a later, larger count acknowledges everything the earlier one did).
 */
export function coalesceWrites(entity: Writable, sm: { inbound: number }, answerMs = ACK_ANSWER_MS): void {
  coalescers.set(entity, new Coalescer(entity, sm, answerMs, entity.write, entity.send));
  // Functions every entity shares (their `this` is the entity), where closures per entity were most of
  // what this cost each of 10,000 sessions (bench/JOURNAL.md, "Memory at 10,000 sessions").
  entity.write = Coalescer.write;
  entity.send = Coalescer.send;
  entity.on('disconnect', Coalescer.onDisconnect);
}

const coalescers = new WeakMap<object, Coalescer>();

function uncork(socket: { uncork?(): void }): void {
  socket.uncork?.();
}

function payAck(c: Coalescer): void {
  c.payAck();
}

class Coalescer {
  #owed: NodeJS.Timeout | undefined;

  constructor(
    private readonly entity: Writable,
    private readonly sm: { inbound: number },
    private readonly answerMs: number,
    /** the entity's own write and send, called with the entity as `this` */
    private readonly ownWrite: Writable['write'],
    private readonly ownSend: Writable['send'],
  ) {}

  payAck(): void {
    this.#settle();
    this.ownWrite
      .call(this.entity, xml('a', { xmlns: NS.sm, h: String(this.sm.inbound) }).toString())
      .catch(() => undefined);
  }

  #settle(): void {
    clearTimeout(this.#owed);
    this.#owed = undefined;
  }

  static write(this: Writable, s: string): Promise<void> {
    const c = coalescers.get(this)!;
    const socket = this.socket;
    if (socket?.cork && !socket.writableCorked) {
      socket.cork();
      setImmediate(uncork, socket);
    }
    if (c.#owed) c.payAck();
    return c.ownWrite.call(this, s);
  }

  static send(this: Writable, el: Element): Promise<void> {
    const c = coalescers.get(this)!;
    if (el.is('a', NS.sm) && this.status === 'online') {
      if (!c.#owed) {
        c.#owed = setTimeout(payAck, c.answerMs, c);
        c.#owed.unref();
      }
      return Promise.resolve();
    }
    return c.ownSend.call(this, el);
  }

  static onDisconnect(this: object): void {
    const c = coalescers.get(this);
    if (c) c.#settle();
  }
}
