/**
 * XEP-0363 HTTP File Upload, client side: find the XMPP server's upload service, ask it for a slot, and
 * PUT the file there; the GET URL then travels in messages like any other. Used when an upload asks for
 * `?via=xmpp`, so files live where the user's other XMPP clients put theirs.
 * References: https://xmpp.org/extensions/xep-0363.html, XEP-0030 service discovery.
 */
import xml, { type Element } from '@xmpp/xml';
import { createReadStream } from 'node:fs';
import { BridgeError } from '../errors/BridgeError.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';

/** Only these PUT headers may be passed on (§5: anything else is dropped). */
const PUT_HEADERS = new Set(['authorization', 'cookie', 'expires']);

export interface Slot {
  put: string;
  get: string;
  headers: Record<string, string>;
}

export const slotRequest = (
  service: string,
  f: { filename: string; size: number; contentType: string },
): Element =>
  xml(
    'iq',
    { type: 'get', to: service },
    xml('request', {
      xmlns: NS.upload,
      filename: f.filename,
      size: String(f.size),
      'content-type': f.contentType,
    }),
  );

/** The slot from an IQ result; https (or http on loopback, for tests) only. */
export function readSlot(result: Element): Slot {
  const slot = result.getChild('slot', NS.upload);
  const put = slot?.getChild('put');
  const get = slot?.getChild('get');
  const putUrl = String(put?.attrs.url ?? '');
  const getUrl = String(get?.attrs.url ?? '');
  if (!isUploadUrl(putUrl) || !isUploadUrl(getUrl))
    throw new BridgeError('XMPP_REFUSED', 'the upload service answered without usable slot URLs');
  const headers: Record<string, string> = {};
  for (const h of put!.getChildren('header')) {
    const name = String(h.attrs.name ?? '');
    if (PUT_HEADERS.has(name.toLowerCase())) headers[name] = h.text().replace(/[\r\n]/g, '');
  }
  return { put: putUrl, get: getUrl, headers };
}

function isUploadUrl(raw: string): boolean {
  try {
    const u = new URL(raw);
    return (
      u.protocol === 'https:' ||
      (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
    );
  } catch {
    return false;
  }
}

/** The upload service of the user's server (disco#items, then disco#info of each), with its size limit. */
export async function findUploadService(
  session: UserSession,
  domain: string,
): Promise<{ jid: string; maxSize?: number } | undefined> {
  const items = await session.iq(
    xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: NS.discoItems })),
    10_000,
    'service discovery',
  );
  const jids = [
    domain,
    ...(items
      .getChild('query', NS.discoItems)
      ?.getChildren('item')
      .map((i) => String(i.attrs.jid)) ?? []),
  ];
  for (const jid of jids) {
    const info = await session
      .iq(
        xml('iq', { type: 'get', to: jid }, xml('query', { xmlns: NS.discoInfo })),
        5_000,
        'service discovery',
      )
      .catch(() => undefined);
    const query = info?.getChild('query', NS.discoInfo);
    if (!query?.getChildren('feature').some((f) => f.attrs.var === NS.upload)) continue;
    const field = query
      .getChildren('x', NS.dataForms)
      .flatMap((x) => x.getChildren('field'))
      .find((f) => f.attrs.var === 'max-file-size');
    const max = Number(field?.getChildText('value'));
    return { jid, ...(Number.isFinite(max) && max > 0 ? { maxSize: max } : {}) };
  }
  return undefined;
}

/** Requests a slot and PUTs the file there (streamed from disk); answers the GET URL. */
export async function uploadViaXmpp(
  session: UserSession,
  domain: string,
  path: string,
  f: { filename: string; size: number; contentType: string },
): Promise<string> {
  const service = await findUploadService(session, domain);
  if (!service) throw new BridgeError('CONFLICT', 'the XMPP server offers no HTTP upload service (XEP-0363)');
  if (service.maxSize !== undefined && f.size > service.maxSize)
    throw new BridgeError('BODY_TOO_LARGE', `the XMPP server's upload limit is ${service.maxSize} bytes`);
  const slot = readSlot(await session.iq(slotRequest(service.jid, f), 10_000, 'upload slot request'));
  const res = await fetch(slot.put, {
    method: 'PUT',
    body: createReadStream(path) as unknown as ReadableStream,
    duplex: 'half',
    headers: { ...slot.headers, 'Content-Type': f.contentType, 'Content-Length': String(f.size) },
  } as RequestInit);
  if (!res.ok)
    throw new BridgeError('XMPP_REFUSED', `the upload service refused the file (HTTP ${res.status})`);
  return slot.get;
}
