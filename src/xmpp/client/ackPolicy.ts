import type { EventEmitter } from 'node:events';
import xml, { type Element } from '@xmpp/xml';
import { NS } from '../ns.js';

/** Ask for an XEP-0198 ack once this many stanzas went out since the last request. */
export const ACK_EVERY_STANZAS = 20;
/**
 * ... or once the session has sent nothing for this long after sending something. Longer than the gap
 * between a conversation's messages, so those share one request; what it delays is only the trimming of
 * the resend queue (and, on a link that died silently, the <r/> whose 60 s timeout notices it).
 */
export const ACK_QUIET_MS = 5000;
/** Idle time before the kernel starts probing a silent connection (TCP keepalive). */
export const TCP_KEEPALIVE_MS = 60_000;

/** The parts of @xmpp/stream-management's state object that the policy tunes and reads. */
export interface SmKnobs {
  enabled: boolean;
  requestAckInterval: number;
  requestAckDebounce: number;
}

interface Sender extends EventEmitter {
  send(el: Element): Promise<void>;
}

/** What the policy knows that the backpressure ledger needs (SessionBacklog). */
export interface AckBatch {
  /**
   * Stanzas sent since the last `<r/>`: unacked on purpose, awaiting the next batched request, so they
   * are no sign of a backlog (at most ACK_EVERY_STANZAS - 1 per session).
   */
  readonly unrequested: number;
}

/**
 * Parley's XEP-0198 ack policy, configured from outside @xmpp/stream-management (0.14), whose defaults
 * put stanzas on the wire that no user caused:
 * - it sends `<r/>` every 30 s on every session, idle or not (330 stanzas/s at 10,000 sessions): the
 *   periodic request is switched off (`requestAckInterval = 0` makes its scheduler a no-op), since an
 *   idle session with nothing unacked has nothing to learn from an ack;
 * - it requests an ack 250 ms after the last outbound stanza, which at a user's pace (a message every
 *   second or so) is one `<r/>` per stanza: the quiet period is 5 s, and a steady stream, which never
 *   goes quiet, asks once every ACK_EVERY_STANZAS stanzas instead (the library would never ask then).
 * Resumption is untouched: unacked stanzas stay in the library's queue and are resent on `<resumed/>`;
 * the queue is only trimmed later. Liveness of an idle link is left to TCP keepalive (kernel probes,
 * no XMPP bytes, no wake-up of Prosody or of the event loop); after activity the library's own
 * `<r/>` timeout (60 s without an answer → disconnect → resume) still applies.
 */
export function batchAcks(
  entity: Sender,
  sm: SmKnobs,
  opts: { every?: number; quietMs?: number } = {},
): AckBatch {
  sm.requestAckInterval = 0;
  sm.requestAckDebounce = opts.quietMs ?? ACK_QUIET_MS;
  const batch = new Batch(entity, sm, opts.every ?? ACK_EVERY_STANZAS);
  batches.set(entity, batch);
  entity.on('disconnect', Batch.onDisconnect);
  entity.on('send', Batch.onSend);
  return batch;
}

/** each entity's batch, for the listeners every entity shares (a listener's `this` is its emitter) */
const batches = new WeakMap<object, Batch>();

class Batch implements AckBatch {
  unrequested = 0;
  constructor(
    private readonly entity: Sender,
    private readonly sm: SmKnobs,
    private readonly every: number,
  ) {}

  static onDisconnect(this: object): void {
    const b = batches.get(this);
    if (b) b.unrequested = 0;
  }

  /** `send` fires after the element was written, so a request always follows the stanzas it covers. */
  static onSend(this: object, el: Element): void {
    const b = batches.get(this);
    if (!b) return;
    if (el.is('r', NS.sm)) {
      b.unrequested = 0;
      return;
    }
    if (!b.sm.enabled || !(el.is('message') || el.is('presence') || el.is('iq'))) return;
    if (++b.unrequested < b.every) return;
    b.unrequested = 0;
    b.entity.send(xml('r', { xmlns: NS.sm })).catch(() => undefined);
  }
}
