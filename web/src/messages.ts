import type { Attachment, HistoryItem, RoomHistoryItem } from './api';
import { attachmentsOf, visibleText } from './attachments';

/** Messages as the views show them, mapped from history pages, events and own sends; threads keep them in order. */

export type TickStatus = 'sending' | 'sent' | 'delivered' | 'displayed' | 'failed';
export interface Msg {
  key: string;
  id?: string;
  stanzaId?: string | null;
  dir: 'in' | 'out';
  body: string;
  ts: string;
  status: TickStatus;
  nick?: string | null;
  attachments: Attachment[];
}
export interface Thread {
  messages: Msg[];
  loaded: boolean;
  loading: boolean;
  hasMore: boolean;
  before: string | null;
}

export function newThread(): Thread {
  return { messages: [], loaded: false, loading: false, hasMore: true, before: null };
}

let seq = 0;
const tempKey = (): string => `tmp-${++seq}`;

export const byId = (a: Msg, b: Msg): number => {
  if (a.id && b.id) return Number(a.id) - Number(b.id);
  if (!a.id && !b.id) return 0;
  return a.id ? -1 : 1; // unsent messages stay last
};

/** Adds what the thread does not have yet (by id), in id order. */
export function mergeInto(t: Thread, msgs: Msg[]): void {
  const have = new Set(t.messages.map((m) => m.id).filter(Boolean));
  const add = msgs.filter((m) => !m.id || !have.has(m.id));
  if (add.length === 0) return;
  t.messages = [...t.messages, ...add].sort(byId);
}

function withFiles(
  body: string | null,
  item: { attachments?: unknown; data?: unknown },
): Pick<Msg, 'body' | 'attachments'> {
  const attachments = attachmentsOf(item);
  return { body: visibleText(body ?? '', attachments), attachments };
}

export function fromHistory(m: HistoryItem): Msg {
  const status: TickStatus = m.displayed ? 'displayed' : m.delivered ? 'delivered' : 'sent';
  return {
    key: `id-${m.id}`,
    id: m.id,
    stanzaId: m.stanzaId,
    dir: m.direction,
    ts: m.timestamp,
    status,
    ...withFiles(m.body, m),
  };
}

export function fromRoomHistory(m: RoomHistoryItem): Msg {
  return {
    key: `id-${m.id}`,
    id: m.id,
    dir: m.direction ?? 'in',
    ts: m.timestamp,
    status: 'sent',
    nick: m.nick,
    ...withFiles(m.body, m),
  };
}

/** A `chatapi.chat` / `chatapi.muc` message event; undefined for events without a stored message. */
export function fromEvent(d: Record<string, unknown>, received: TickStatus): Msg | undefined {
  if (typeof d.body !== 'string' || typeof d.id !== 'string') return undefined;
  const dir: Msg['dir'] = d.direction === 'out' ? 'out' : 'in';
  return {
    key: `id-${d.id}`,
    id: d.id,
    stanzaId: typeof d.stanzaId === 'string' ? d.stanzaId : null,
    dir,
    ts: String(d.timestamp ?? new Date().toISOString()),
    status: dir === 'out' ? 'sent' : received,
    ...(typeof d.nick === 'string' ? { nick: d.nick } : {}),
    ...withFiles(d.body, d),
  };
}

/** The optimistic copy of a message being sent, shown at once. */
export function outgoing(text: string, attachments: Attachment[], nick?: string): Msg {
  return {
    key: tempKey(),
    dir: 'out',
    body: text,
    ts: new Date().toISOString(),
    status: 'sending',
    attachments,
    ...(nick ? { nick } : {}),
  };
}

const sameContent = (a: Msg, b: Msg): boolean =>
  a.body === b.body &&
  a.attachments.map((x) => x.url).join('\n') === b.attachments.map((x) => x.url).join('\n');

/** An own message's event that came before the send's answer: the optimistic copy takes its id. */
export function adoptEcho(t: Thread, echo: Msg): boolean {
  const pending = t.messages.find((m) => !m.id && m.status === 'sending' && sameContent(m, echo));
  if (!pending) return false;
  Object.assign(pending, { id: echo.id, key: echo.key, stanzaId: echo.stanzaId, status: 'sent' });
  t.messages.sort(byId);
  return true;
}

/** The send answered with the stored id: the optimistic copy takes it, unless its event already came. */
export function settle(t: Thread, m: Msg, sent: { id?: string; stanzaId?: string }): void {
  const echoed = sent.id ? t.messages.find((x) => x.id === sent.id && x !== m) : undefined;
  if (echoed) t.messages = t.messages.filter((x) => x !== m);
  else {
    if (sent.id) {
      m.id = sent.id;
      m.key = `id-${sent.id}`;
    }
    if (sent.stanzaId) m.stanzaId = sent.stanzaId;
    if (m.status === 'sending') m.status = 'sent';
  }
  t.messages.sort(byId);
}
