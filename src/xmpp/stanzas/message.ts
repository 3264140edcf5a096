/**
 * Pure mappers between Parley's JSON and <message/> stanzas (no I/O), shared by chat and rooms.
 * References: RFC 6121 §5, XEP-0184 receipts, XEP-0333 markers, XEP-0359 stanza ids, XEP-0203 delay.
 */
import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { NS } from '../ns.js';

export type MessageType = 'chat' | 'groupchat' | 'normal' | 'headline';

export interface OutgoingMessage {
  to: string;
  type: MessageType;
  body?: string;
  subject?: string;
  /** the sender's JSON; travels in <data xmlns="urn:parley:data:0"> so Parley recipients get it back */
  data?: unknown;
  id?: string;
  /** ask for XEP-0184 receipts and XEP-0333 markers (1:1 only) */
  trackable?: boolean;
}

export function buildMessage(m: OutgoingMessage): Element {
  const id = m.id ?? randomUUID();
  const el = xml('message', { type: m.type, to: m.to, id });
  if (m.subject !== undefined) el.append(xml('subject', {}, m.subject));
  if (m.body !== undefined) el.append(xml('body', {}, m.body));
  if (m.data !== undefined && m.data !== null)
    el.append(xml('data', { xmlns: NS.parleyData }, JSON.stringify(m.data)));
  if (m.trackable) {
    el.append(xml('request', { xmlns: NS.receipts }));
    el.append(xml('markable', { xmlns: NS.markers }));
  }
  el.append(xml('origin-id', { xmlns: NS.sid, id }));
  return el;
}

/** The sender's JSON, or null when absent or not valid JSON (a foreign client's element). */
export function readData(msg: Element): unknown {
  const text = msg.getChild('data', NS.parleyData)?.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** XEP-0359 id assigned by `by` (the archiving entity: the user's bare JID, or the room). */
export function readStanzaId(msg: Element, by: string): string | undefined {
  const el = msg
    .getChildren('stanza-id', NS.sid)
    .find((c) => String(c.attrs.by ?? '').toLowerCase() === by.toLowerCase());
  return el?.attrs.id as string | undefined;
}

/** XEP-0203 delay stamp (offline / history delivery), else undefined. */
export function readDelay(msg: Element): Date | undefined {
  const stamp = msg.getChild('delay', NS.delay)?.attrs.stamp as string | undefined;
  const d = stamp ? new Date(stamp) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}
