/**
 * Pure mappers between <message/> stanzas and sync messages (no I/O).
 * References: RFC 6121 §5, XEP-0066 (files as OOB URLs), XEP-0106 (addresses), XEP-0203 (the original time),
 * XEP-0359 (origin-id: the stable id).
 */
import xml, { type Element } from '@xmpp/xml';
import { createHash } from 'node:crypto';
import { oobElements, type Attachment } from '../attachments/index.js';
import { NS } from '../xmpp/ns.js';
import { buildMessage, readData } from '../xmpp/stanzas/message.js';

/** A written chat message (with a body): what the component carries home; receipts, states, errors are not. */
export function isChatMessage(stanza: Element): boolean {
  const type = String(stanza.attrs.type ?? 'normal');
  return stanza.name === 'message' && (type === 'chat' || type === 'normal') && !!stanza.getChildText('body');
}

/**
 * The message's id across deployments, stable from the stanza alone: the sender's bare JID and the
 * stanza's own id (its origin-id first), hashed. A stanza the XMPP server hands over twice maps to one id.
 */
export function stableId(domain: string, fromBare: string, stanza: Element): string | undefined {
  const own = stanza.getChild('origin-id', NS.sid)?.attrs.id ?? stanza.attrs.id;
  if (!own) return undefined;
  const h = createHash('sha256')
    .update(`${fromBare}\n${String(own)}`)
    .digest('base64url')
    .slice(0, 32);
  return `${domain}:${h}`;
}

/** The sender's JSON without the file list (files travel as `files`; the receiver writes its own list). */
export function dataWithoutFiles(stanza: Element): unknown {
  const data = readData(stanza);
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data ?? undefined;
  const rest: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  delete rest.attachments;
  return Object.keys(rest).length ? rest : undefined;
}

export interface Delivery {
  id: string;
  from: string;
  to: string;
  body: string;
  data?: unknown;
  sentAt: string;
  /** each file as the sender had it (its URL there) and as it is stored here */
  files: { url: string; local: Attachment }[];
  links: string[];
}

/**
 * The stanza the component hands the local recipient: from the sender's address here, with the stable
 * id, the files' local URLs (in the body too, where the sender's URLs were), and the time it was written.
 */
export function deliveryStanza(d: Delivery, component: string): Element {
  let body = d.body;
  for (const f of d.files) body = body.split(f.url).join(f.local.url);
  const attachments = d.files.map((f) => f.local);
  const base = d.data && typeof d.data === 'object' && !Array.isArray(d.data) ? d.data : {};
  const data = attachments.length ? { ...base, attachments } : d.data;
  const el = buildMessage({ to: d.to, type: 'chat', body, data, id: d.id });
  el.attrs.from = d.from;
  for (const oob of oobElements(attachments)) el.append(oob);
  for (const url of d.links) el.append(xml('x', { xmlns: NS.oob }, xml('url', {}, url)));
  el.append(xml('delay', { xmlns: NS.delay, from: component, stamp: d.sentAt }));
  return el;
}

/** The error a sender gets for a message the component cannot carry (RFC 6120 §8.3). */
export function bounce(stanza: Element, condition: string, text: string): Element {
  return xml(
    'message',
    { type: 'error', to: stanza.attrs.from, from: stanza.attrs.to, id: stanza.attrs.id },
    xml(
      'error',
      { type: 'cancel' },
      xml(condition, { xmlns: NS.stanzas }),
      xml('text', { xmlns: NS.stanzas }, text),
    ),
  );
}
