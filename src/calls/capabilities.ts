/**
 * Who can take calls, from service discovery (pure, no I/O): XEP-0115 caps in presence name a
 * disco#info answer by its hash, which is verified before it is trusted for every contact that
 * advertises the same hash; the features then say whether a client speaks JMI or Jingle RTP.
 *
 * References: XEP-0115 §5 (verification string), XEP-0030, XEP-0353, XEP-0166/0167.
 */
import { createHash } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import { NS } from '../xmpp/ns.js';

export interface CapsRef {
  node: string;
  ver: string;
  hash: string;
}
export interface Identity {
  category: string;
  type: string;
  lang?: string;
  name?: string;
}
export interface DataForm {
  formType: string;
  fields: { var: string; values: string[] }[];
}
export interface DiscoInfo {
  identities: Identity[];
  features: string[];
  forms: DataForm[];
}

export interface CallCapabilities {
  /** XEP-0353 Jingle Message Initiation */
  jmi: boolean;
  /** XEP-0166 Jingle */
  jingle: boolean;
  /** XEP-0167 RTP audio / video sessions */
  audio: boolean;
  video: boolean;
  /** can be rung: JMI, or Jingle with audio or video (JMI itself is deliberately not always advertised) */
  calls: boolean;
  /** a Parley session (takes the CallOptions extension) */
  parley: boolean;
}

/** The <c/> of a presence (XEP-0115), or undefined. Legacy caps without `hash` cannot be verified: ignored. */
export function readCaps(presence: Element): CapsRef | undefined {
  const c = presence.getChild('c', NS.caps);
  const node = c?.attrs.node as string | undefined;
  const ver = c?.attrs.ver as string | undefined;
  const hash = c?.attrs.hash as string | undefined;
  return node && ver && hash ? { node, ver, hash } : undefined;
}

export function readDiscoInfo(query: Element | undefined): DiscoInfo {
  const identities = (query?.getChildren('identity') ?? []).map((i) => ({
    category: String(i.attrs.category ?? ''),
    type: String(i.attrs.type ?? ''),
    ...(i.attrs['xml:lang'] ? { lang: String(i.attrs['xml:lang']) } : {}),
    ...(i.attrs.name ? { name: String(i.attrs.name) } : {}),
  }));
  const features = (query?.getChildren('feature') ?? [])
    .map((f) => String(f.attrs.var ?? ''))
    .filter(Boolean);
  const forms = (query?.getChildren('x', NS.dataForms) ?? []).flatMap((x) => {
    const fields = x
      .getChildren('field')
      .map((f) => ({ var: String(f.attrs.var ?? ''), values: f.getChildren('value').map((v) => v.text()) }));
    const formType = fields.find((f) => f.var === 'FORM_TYPE')?.values[0];
    return formType === undefined ? [] : [{ formType, fields: fields.filter((f) => f.var !== 'FORM_TYPE') }];
  });
  return { identities, features, forms };
}

/** "i;octet" collation (RFC 4790): compare the UTF-8 bytes, not UTF-16 code units. */
const octet = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const HASHES: Record<string, string> = {
  'sha-1': 'sha1',
  'sha-224': 'sha224',
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
};

/** XEP-0115 §5.1 verification string, hashed; undefined for a hash function Parley does not know. */
export function capsVer(info: DiscoInfo, hash = 'sha-1'): string | undefined {
  const algo = HASHES[hash];
  if (!algo) return undefined;
  const ids = info.identities
    .map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`)
    .sort(octet);
  let s =
    ids.map((i) => `${i}<`).join('') +
    [...info.features]
      .sort(octet)
      .map((f) => `${f}<`)
      .join('');
  for (const form of [...info.forms].sort((a, b) => octet(a.formType, b.formType))) {
    s += `${form.formType}<`;
    for (const f of [...form.fields].sort((a, b) => octet(a.var, b.var)))
      s +=
        `${f.var}<` +
        [...f.values]
          .sort(octet)
          .map((v) => `${v}<`)
          .join('');
  }
  return createHash(algo).update(s, 'utf8').digest('base64');
}

export function callCapabilities(features: Iterable<string>): CallCapabilities {
  const f = new Set(features);
  const jmi = f.has(NS.jingleMessage);
  const jingle = f.has(NS.jingle);
  const audio = f.has(NS.jingleRtpAudio);
  const video = f.has(NS.jingleRtpVideo);
  return {
    jmi,
    jingle,
    audio,
    video,
    calls: jmi || (jingle && (audio || video)),
    parley: f.has(NS.parleyCall),
  };
}

/**
 * What a Parley session answers to disco#info: it speaks JMI (with Parley's call options) but runs
 * no Jingle media session itself — the call happens in the room the options name — so it does not
 * claim Jingle RTP. Receipts, markers and chat states are answered by the chat feature.
 */
export const PARLEY_FEATURES = [
  NS.discoInfo,
  NS.jingleMessage,
  NS.parleyCall,
  NS.receipts,
  NS.markers,
  NS.chatStates,
] as const;

export function parleyDiscoInfo(node?: string): Element {
  return xml(
    'query',
    { xmlns: NS.discoInfo, node },
    xml('identity', { category: 'client', type: 'web', name: 'Parley' }),
    ...PARLEY_FEATURES.map((f) => xml('feature', { var: f })),
  );
}
