/**
 * Pure classification of a user's inbound <message/> stanzas (no I/O).
 * References: XEP-0280 carbons, XEP-0313 MAM results, XEP-0184 receipts, XEP-0333 markers,
 * XEP-0085 chat states, XEP-0359 stanza ids, XEP-0203 delay.
 */
import type { Element } from '@xmpp/xml';
import { NS } from '../xmpp/ns.js';
import { readData, readDelay, readStanzaId } from '../xmpp/stanzas/message.js';
import { bareJid } from '../xmpp/jid.js';

export const CHAT_STATES = ['active', 'composing', 'paused', 'inactive', 'gone'] as const;
export type ChatState = (typeof CHAT_STATES)[number];

/** A message as the user's own archive sees it, after unwrapping carbons and MAM results. */
export interface Unwrapped {
  msg: Element;
  /** out: sent by the user (from another client: a `sent` carbon or an archived outgoing message) */
  direction: 'in' | 'out';
  carbon: boolean;
  /** read back from the archive (a MAM result), not delivered live */
  fromArchive?: boolean;
  archiveId?: string;
  sentAt?: Date;
}

/**
 * Unwraps carbons and MAM results. Wrappers are only trusted from the user's own bare JID
 * (XEP-0280 §11: anyone else could forge a "sent" carbon).
 */
export function unwrap(stanza: Element, ownBare: string): Unwrapped | undefined {
  const from = stanza.attrs.from as string | undefined;
  const fromSelf = !from || bareJid(from) === ownBare;
  for (const [name, direction] of [
    ['received', 'in'],
    ['sent', 'out'],
  ] as const) {
    const carbon = stanza.getChild(name, NS.carbons);
    if (!carbon) continue;
    if (!fromSelf) return undefined;
    const msg = carbon.getChild('forwarded', NS.forward)?.getChild('message');
    return msg ? { msg, direction, carbon: true, archiveId: readStanzaId(msg, ownBare) } : undefined;
  }
  const result = stanza.getChild('result', NS.mam);
  if (result) {
    if (!fromSelf) return undefined;
    const forwarded = result.getChild('forwarded', NS.forward);
    const msg = forwarded?.getChild('message');
    if (!msg) return undefined;
    const direction = bareJid(String(msg.attrs.from ?? ownBare)) === ownBare ? 'out' : 'in';
    return {
      msg,
      direction,
      carbon: false,
      fromArchive: true,
      archiveId: String(result.attrs.id),
      sentAt: forwarded ? readDelay(forwarded) : undefined,
    };
  }
  return {
    msg: stanza,
    direction: 'in',
    carbon: false,
    archiveId: readStanzaId(stanza, ownBare),
    sentAt: readDelay(stanza),
  };
}

export type Classified =
  | { kind: 'message'; body: string; data: unknown; state?: ChatState }
  | { kind: 'state'; state: ChatState }
  | { kind: 'receipt'; status: 'delivered' | 'displayed'; ref: string }
  | { kind: 'notify'; data: unknown }
  | { kind: 'other' };

/** What a (unwrapped) 1:1 message is; groupchat and MUC invitations are the rooms feature's. */
export function classify(msg: Element): Classified {
  const type = msg.attrs.type ?? 'normal';
  if (type === 'groupchat' || type === 'error' || msg.getChild('x', NS.mucUser)) return { kind: 'other' };
  const received = msg.getChild('received', NS.receipts);
  if (received?.attrs.id) return { kind: 'receipt', status: 'delivered', ref: String(received.attrs.id) };
  const displayed = msg.getChild('displayed', NS.markers);
  if (displayed?.attrs.id) return { kind: 'receipt', status: 'displayed', ref: String(displayed.attrs.id) };
  const state = CHAT_STATES.find((s) => msg.getChild(s, NS.chatStates));
  const body = msg.getChildText('body');
  if (body !== null && body !== undefined)
    return { kind: 'message', body, data: readData(msg), ...(state ? { state } : {}) };
  if (state) return { kind: 'state', state };
  const data = readData(msg);
  if (data !== null) return { kind: 'notify', data };
  return { kind: 'other' };
}
