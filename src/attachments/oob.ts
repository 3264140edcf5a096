/**
 * Pure mappers between attachments and <message/> stanzas (no I/O), shared by chat and rooms.
 * Each attachment travels as an XEP-0066 out-of-band URL, which native clients show (Conversations,
 * Gajim, Dino, Monal); Parley senders also put the full metadata in their data element, so Parley
 * recipients get name, size, type and thumbnail without fetching anything.
 * References: https://xmpp.org/extensions/xep-0066.html (jabber:x:oob)
 */
import xml, { type Element } from '@xmpp/xml';
import { NS } from '../xmpp/ns.js';

/** XEP-0066 namespace (declared here because only attachments speak it). */

/** One attachment as events, history and the stanza's data element carry it. */
export interface Attachment {
  url: string;
  name: string;
  /** bytes; null when a native client's OOB URL told us nothing more */
  size: number | null;
  type: string;
  thumbnail?: string;
}

export function oobElements(attachments: readonly Attachment[]): Element[] {
  return attachments.map((a) => xml('x', { xmlns: NS.oob }, xml('url', {}, a.url), xml('desc', {}, a.name)));
}

/**
 * The attachments of a received message: the sender's metadata when it is a Parley sender's (its data
 * element lists them and each URL is also in an OOB element), else one entry per OOB URL.
 */
export function readAttachments(msg: Element, data: unknown): Attachment[] {
  const urls = msg
    .getChildren('x', NS.oob)
    .map((x) => ({ url: x.getChildText('url')?.trim() ?? '', desc: x.getChildText('desc')?.trim() }))
    .filter((o) => /^https?:\/\//i.test(o.url));
  const described = fromData(data).filter((a) => urls.some((u) => u.url === a.url));
  if (described.length === urls.length && urls.length > 0) return described;
  return urls.map(
    (o) =>
      described.find((a) => a.url === o.url) ?? {
        url: o.url,
        name: o.desc || nameFromUrl(o.url),
        size: null,
        type: typeFromName(nameFromUrl(o.url)),
      },
  );
}

/** `{ attachments }` to spread into an event payload, or nothing (events without files stay as they were). */
export const attachmentsField = (list: readonly Attachment[]): { attachments?: Attachment[] } =>
  list.length ? { attachments: [...list] } : {};

function fromData(data: unknown): Attachment[] {
  const list = (data as { attachments?: unknown } | null)?.attachments;
  if (!Array.isArray(list)) return [];
  return list.flatMap((a: Partial<Attachment>) =>
    a && typeof a.url === 'string' && typeof a.name === 'string' && typeof a.type === 'string'
      ? [
          {
            url: a.url,
            name: a.name,
            size: typeof a.size === 'number' ? a.size : null,
            type: a.type,
            ...(typeof a.thumbnail === 'string' ? { thumbnail: a.thumbnail } : {}),
          },
        ]
      : [],
  );
}

export function nameFromUrl(url: string): string {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).at(-1);
    return last ? decodeURIComponent(last) : 'file';
  } catch {
    return 'file';
  }
}

/** A guess for native clients' URLs (XEP-0363 upload URLs keep the file name); only used for display. */
const BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  m4a: 'audio/mp4',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  pdf: 'application/pdf',
  txt: 'text/plain',
};
export function typeFromName(name: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return (ext && BY_EXT[ext]) || 'application/octet-stream';
}
