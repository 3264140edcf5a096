/**
 * Pure mappers between Parley's call JSON and XEP-0353 Jingle Message Initiation stanzas (no I/O).
 * Every JMI message is a type="chat" message to the other party's bare JID with a <store/> hint, so
 * carbons (XEP-0280) and the archive (XEP-0313) show it to every device of both parties.
 * The CallOptions a Jingle client has no field for travel in <call xmlns="urn:parley:call:0"/> inside
 * the <propose/>; other clients ignore it.
 *
 * References: https://xmpp.org/extensions/xep-0353.html, XEP-0166 §7.4 (reason), XEP-0167 (RTP media),
 * XEP-0334 (store hint).
 */
import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { NS } from '../xmpp/ns.js';
import {
  JINGLE_CONDITIONS,
  JMI_ACTIONS,
  type CallOptions,
  type CallReason,
  type JingleCondition,
  type JmiAction,
  type Media,
} from './types.js';

export interface JmiMessage {
  action: JmiAction;
  callId: string;
  /** propose only */
  options?: CallOptions;
  /** reject, retract, finish */
  reason?: CallReason;
}

const MAX_ID = 256;
const MAX_TEXT = 1024;

/**
 * A JMI message to `to`. A propose's message id is the call id, so a bounce (type="error", which
 * servers send without the payload) can still be matched to the call.
 */
export function buildJmi(to: string, m: JmiMessage): Element {
  const child = xml(m.action, { xmlns: NS.jingleMessage, id: m.callId });
  if (m.action === 'propose' && m.options) for (const el of proposeChildren(m.options)) child.append(el);
  if (m.reason) child.append(buildReason(m.reason));
  const id = m.action === 'propose' ? m.callId : randomUUID();
  return xml('message', { type: 'chat', to, id }, child, xml('store', { xmlns: NS.hints }));
}

function proposeChildren(o: CallOptions): Element[] {
  const media: Media[] = o.audioOnly ? ['audio'] : ['audio', 'video'];
  const out = media.map((m) => xml('description', { xmlns: NS.jingleRtp, media: m }));
  out.push(
    xml('call', {
      xmlns: NS.parleyCall,
      'room-name': o.roomName,
      'room-sid': o.roomSid,
      'auto-accept': o.autoAccept ? 'true' : undefined,
      'accept-after': o.acceptAfter,
    }),
  );
  return out;
}

export function buildReason(r: CallReason): Element {
  const el = xml('reason', { xmlns: NS.jingle }, xml(r.condition));
  if (r.text) el.append(xml('text', {}, r.text));
  return el;
}

/** The JMI element of a message, or undefined when it has none (or one Parley cannot use). */
export function parseJmi(msg: Element): JmiMessage | undefined {
  const el = msg
    .getChildElements()
    .find((c) => c.attrs.xmlns === NS.jingleMessage && (JMI_ACTIONS as readonly string[]).includes(c.name));
  const callId = el?.attrs.id as string | undefined;
  if (!el || !callId || callId.length > MAX_ID) return undefined;
  const action = el.name as JmiAction;
  if (action === 'propose') {
    const options = parseProposal(el);
    return options ? { action, callId, options } : undefined;
  }
  const reason = parseReason(el.getChild('reason'));
  return reason ? { action, callId, reason } : { action, callId };
}

/** RTP descriptions → audioOnly; a proposal with neither audio nor video (e.g. a file transfer) is not a call. */
function parseProposal(propose: Element): CallOptions | undefined {
  const media = propose.getChildren('description', NS.jingleRtp).map((d) => d.attrs.media as string);
  if (!media.includes('audio') && !media.includes('video')) return undefined;
  const call = propose.getChild('call', NS.parleyCall);
  const text = (name: string) => {
    const v = call?.attrs[name] as string | undefined;
    return v && v.length <= MAX_ID ? v : undefined;
  };
  const after = Number(call?.attrs['accept-after']);
  const options: CallOptions = {
    audioOnly: !media.includes('video'),
    autoAccept: ['true', '1'].includes(String(call?.attrs['auto-accept'])),
  };
  const roomName = text('room-name');
  const roomSid = text('room-sid');
  if (roomName) options.roomName = roomName;
  if (roomSid) options.roomSid = roomSid;
  if (Number.isInteger(after) && after >= 0 && after <= 3600) options.acceptAfter = after;
  return options;
}

/** XEP-0166 <reason/>: its first known condition and its <text/>; clients that leave out the namespace are read too. */
export function parseReason(reason: Element | undefined): CallReason | undefined {
  if (!reason) return undefined;
  const condition = reason
    .getChildElements()
    .map((c) => c.name)
    .find((n) => (JINGLE_CONDITIONS as readonly string[]).includes(n));
  const text = reason.getChildText('text')?.slice(0, MAX_TEXT) || undefined;
  if (!condition) return text ? { condition: 'general-error', text } : undefined;
  return text
    ? { condition: condition as JingleCondition, text }
    : { condition: condition as JingleCondition };
}

/**
 * The seed's free-text `declineReason` ("declined", "busy", "camera unavailable", an exception) as a
 * Jingle reason (bbb-and-seeds.md §5.2); an explicit condition wins. The text always travels along.
 */
export function declineReason(text: string | undefined, condition?: JingleCondition): CallReason {
  const t = text?.trim().slice(0, MAX_TEXT) || undefined;
  const guessed: JingleCondition = !t
    ? 'decline'
    : /busy/i.test(t)
      ? 'busy'
      : /camera|microphone|\bmic\b|media|device/i.test(t)
        ? 'media-error'
        : /error|exception|fail/i.test(t)
          ? 'failed-application'
          : 'decline';
  return t ? { condition: condition ?? guessed, text: t } : { condition: condition ?? guessed };
}

/** A bounced message (type="error"): its id and the XMPP error condition. */
export function parseBounce(msg: Element): { messageId: string; condition: string } | undefined {
  if (msg.attrs.type !== 'error' || !msg.attrs.id) return undefined;
  const error = msg.getChild('error');
  const condition =
    error?.getChildElements().find((c) => c.attrs.xmlns === NS.stanzas)?.name ?? 'undefined-condition';
  return { messageId: String(msg.attrs.id), condition };
}
