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
  on(event: 'disconnect', fn: () => void): unknown;
}

const uncork = (socket: { uncork?(): void }): void => socket.uncork?.();

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
  const write = entity.write.bind(entity);
  const send = entity.send.bind(entity);
  let owed: NodeJS.Timeout | undefined;
  const payAck = (): void => {
    clearTimeout(owed);
    owed = undefined;
    write(xml('a', { xmlns: NS.sm, h: String(sm.inbound) }).toString()).catch(() => undefined);
  };
  entity.write = (s: string): Promise<void> => {
    const socket = entity.socket;
    if (socket?.cork && !socket.writableCorked) {
      socket.cork();
      setImmediate(uncork, socket);
    }
    if (owed) payAck();
    return write(s);
  };
  entity.send = (el: Element): Promise<void> => {
    if (el.is('a', NS.sm) && entity.status === 'online') {
      if (!owed) {
        owed = setTimeout(payAck, answerMs);
        owed.unref();
      }
      return Promise.resolve();
    }
    return send(el);
  };
  entity.on('disconnect', () => {
    clearTimeout(owed);
    owed = undefined;
  });
}
