/**
 * Pure builders and readers of the XEP-0142 (Workgroup Queues) stanzas, in the dialect Openfire
 * Fastpath and Smack speak (metadata and session in the Jive namespace). No I/O.
 * References: https://xmpp.org/extensions/xep-0142.html (v0.3),
 *   Openfire Fastpath (openfire-fastpath-plugin), Smack's workgroup packets; XEP-0004 data forms.
 * The namespaces are declared here rather than in xmpp/ns.ts because only this feature speaks them.
 */
import xml, { type Element } from '@xmpp/xml';
import { NS } from '../xmpp/ns.js';
import { bareJid } from '../xmpp/jid.js';

/** XEP-0142 §5.1: what an agent's `show` means to routing. */
export type AgentShow = 'chat' | 'available' | 'away' | 'xa' | 'dnd';
export const AGENT_SHOWS: readonly AgentShow[] = ['chat', 'available', 'away', 'xa', 'dnd'];

/** Why a user left the queue (Fastpath's depart-queue child elements). */
export type DepartReason = 'agent-not-found' | 'departure-requested';

// ---- metadata ----------------------------------------------------------------------------------

/** `<metadata><value name=…>` (Fastpath) and a submitted data form (XEP-0142 §6.1.2), first value each. */
export function readMetadata(parent: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of parent.getChild('metadata', NS.jiveWorkgroup)?.getChildren('value') ?? []) {
    const name = String(v.attrs.name ?? '');
    if (name && !(name in out)) out[name] = v.text();
  }
  for (const f of parent.getChild('x', NS.dataForms)?.getChildren('field') ?? []) {
    const name = String(f.attrs.var ?? '');
    if (name && name !== 'FORM_TYPE' && !(name in out)) out[name] = f.getChildText('value') ?? '';
  }
  return out;
}

export function metadataElement(values: Record<string, string>): Element {
  return xml(
    'metadata',
    { xmlns: NS.jiveWorkgroup },
    ...Object.entries(values).map(([name, value]) => xml('value', { name }, value)),
  );
}

// ---- agent side ------------------------------------------------------------------------------

export interface OfferFields {
  offerId: string;
  requestId: string;
  userJid: string;
  timeoutSeconds: number;
  metadata: Record<string, string>;
}

/** §6.2.3 offer, with the Fastpath `id` attribute and session element agents answer with. */
export function offerIq(from: string, to: string, o: OfferFields): Element {
  return xml(
    'iq',
    { type: 'set', from, to },
    xml(
      'offer',
      { xmlns: NS.workgroup, jid: o.userJid, id: o.offerId },
      xml('timeout', {}, String(Math.max(1, Math.round(o.timeoutSeconds)))),
      metadataElement(o.metadata),
      xml('session', { xmlns: NS.jiveWorkgroup, id: o.requestId }),
    ),
  );
}

export function revokeIq(
  from: string,
  to: string,
  r: { offerId: string; userJid: string; reason: string },
): Element {
  return xml(
    'iq',
    { type: 'set', from, to },
    xml('offer-revoke', { xmlns: NS.workgroup, jid: r.userJid, id: r.offerId }, xml('reason', {}, r.reason)),
  );
}

/** offer-accept / offer-reject, as an agent sends them. */
export function answerIq(
  to: string,
  kind: 'offer-accept' | 'offer-reject',
  a: { offerId: string; userJid?: string },
): Element {
  const attrs: Record<string, string> = { xmlns: NS.workgroup, id: a.offerId };
  if (a.userJid) attrs.jid = a.userJid;
  return xml('iq', { type: 'set', to }, xml(kind, attrs));
}

export interface ReadOffer {
  offerId?: string;
  userJid: string;
  requestId?: string;
  timeoutSeconds?: number;
  metadata: Record<string, string>;
  reason?: string;
}

/** An `<offer/>` or `<offer-revoke/>` (or an answer) element, as an agent or the service reads it. */
export function readOffer(el: Element): ReadOffer {
  const timeout = Number(el.getChildText('timeout'));
  return {
    offerId: optional(el.attrs.id),
    userJid: String(el.attrs.jid ?? ''),
    requestId: optional(el.getChild('session', NS.jiveWorkgroup)?.attrs.id),
    timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
    metadata: readMetadata(el),
    reason: optional(el.getChildText('reason')),
  };
}

/** Agent presence (§5.1): directed to the workgroup, with `<agent-status/>` and optional max-chats. */
export function agentPresence(
  to: string,
  a: { show: AgentShow; maxChats?: number; status?: string },
): Element {
  const status = xml('agent-status', { xmlns: NS.workgroup });
  if (a.maxChats !== undefined) status.append(xml('max-chats', {}, String(a.maxChats)));
  const p = xml('presence', { to }, status);
  if (a.show !== 'available') p.append(xml('show', {}, a.show));
  if (a.status) p.append(xml('status', {}, a.status));
  return p;
}

export interface ReadAgentPresence {
  show: AgentShow;
  maxChats?: number;
}

export function readAgentPresence(p: Element): ReadAgentPresence {
  const show = p.getChildText('show');
  const max = Number(p.getChild('agent-status', NS.workgroup)?.getChildText('max-chats'));
  return {
    show: (AGENT_SHOWS as readonly string[]).includes(show ?? '') ? (show as AgentShow) : 'available',
    maxChats: Number.isInteger(max) && max > 0 ? max : undefined,
  };
}

/** The workgroup's answer to agent presence: its own availability and the agent's limits. */
export function agentStatusReply(
  from: string,
  to: string,
  s: { maxChats: number; currentChats: number },
): Element {
  return xml(
    'presence',
    { from, to },
    xml(
      'agent-status',
      { xmlns: NS.workgroup, jid: bareJid(to) },
      xml('max-chats', {}, String(s.maxChats)),
      xml('current-chats', {}, String(s.currentChats)),
    ),
  );
}

export interface QueueSummary {
  count: number;
  oldest?: Date;
  averageWaitSeconds: number;
  status: 'open' | 'active' | 'closed';
}

/** §6.3 notify-queue presence to agents (oldest in Fastpath's yyyyMMdd'T'HH:mm:ss, UTC). */
export function notifyQueuePresence(from: string, to: string, q: QueueSummary): Element {
  const el = xml(
    'notify-queue',
    { xmlns: NS.workgroup },
    xml('count', {}, String(q.count)),
    xml('time', {}, String(q.averageWaitSeconds)),
    xml('status', {}, q.status),
  );
  if (q.oldest) el.append(xml('oldest', {}, fastpathDate(q.oldest)));
  return xml('presence', { from, to }, el);
}

export interface QueueUser {
  jid: string;
  userId: string;
  position: number;
  waitSeconds: number;
  joined: Date;
}

export function notifyQueueDetailsPresence(from: string, to: string, users: QueueUser[]): Element {
  return xml(
    'presence',
    { from, to },
    xml(
      'notify-queue-details',
      { xmlns: NS.workgroup },
      ...users.map((u) =>
        xml(
          'user',
          { jid: u.jid },
          xml('position', {}, String(u.position)),
          xml('time', {}, String(u.waitSeconds)),
          xml('join-time', {}, fastpathDate(u.joined)),
          xml('user-id', { xmlns: NS.jiveWorkgroup, id: u.userId }),
        ),
      ),
    ),
  );
}

export function readNotifyQueue(el: Element): {
  count: number;
  time: number;
  status: string;
  oldest?: string;
} {
  return {
    count: Number(el.getChildText('count') ?? 0),
    time: Number(el.getChildText('time') ?? 0),
    status: el.getChildText('status') ?? 'open',
    oldest: optional(el.getChildText('oldest')),
  };
}

export function readNotifyQueueDetails(
  el: Element,
): { jid: string; userId?: string; position: number; time: number; joinTime?: string }[] {
  return el.getChildren('user').map((u) => ({
    jid: String(u.attrs.jid ?? ''),
    userId: optional(u.getChild('user-id', NS.jiveWorkgroup)?.attrs.id),
    position: Number(u.getChildText('position') ?? 0),
    time: Number(u.getChildText('time') ?? 0),
    joinTime: optional(u.getChildText('join-time')),
  }));
}

// ---- user side -----------------------------------------------------------------------------------

/** §6.1.4 queue-status, as a message pushed to the user or the child of an IQ result. */
export function queueStatus(position: number, waitSeconds: number): Element {
  return xml(
    'queue-status',
    { xmlns: NS.workgroup },
    xml('position', {}, String(position)),
    xml('time', {}, String(Math.max(0, Math.round(waitSeconds)))),
  );
}

export function queueStatusMessage(from: string, to: string, position: number, waitSeconds: number): Element {
  return xml('message', { from, to }, queueStatus(position, waitSeconds));
}

export function departMessage(from: string, to: string, reason: DepartReason): Element {
  return xml('message', { from, to }, xml('depart-queue', { xmlns: NS.workgroup }, xml(reason, {})));
}

export function joinQueueIq(to: string, metadata: Record<string, string>): Element {
  return xml(
    'iq',
    { type: 'set', to },
    xml('join-queue', { xmlns: NS.workgroup }, xml('queue-notifications', {}), metadataElement(metadata)),
  );
}

/** The agent-side list of workgroups (Fastpath/Smack `workgroups` IQ on the service domain). */
export function workgroupsResult(
  agentBare: string,
  workgroups: { jid: string; name: string; description?: string }[],
): Element {
  return xml(
    'workgroups',
    { xmlns: NS.workgroup, jid: agentBare },
    ...workgroups.map((w) =>
      xml('workgroup', {
        jid: w.jid,
        name: w.name,
        ...(w.description ? { description: w.description } : {}),
      }),
    ),
  );
}

export function readWorkgroups(el: Element): { jid: string; name: string; description?: string }[] {
  return el.getChildren('workgroup').map((w) => ({
    jid: String(w.attrs.jid),
    name: String(w.attrs.name ?? String(w.attrs.jid).split('@')[0]),
    description: optional(w.attrs.description),
  }));
}

/** Fastpath's date format in queue presences: yyyyMMdd'T'HH:mm:ss (UTC). */
export function fastpathDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-]/g, '')
    .replace(/\.\d{3}Z$/, '');
}

function optional(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
