import type { EventName, Payload } from '../sse/events.js';

/** One row of the shared `messages` table (1:1 and room messages alike), one per owner (Parley user). */
export interface MessageEntry {
  owner: string;
  kind: 'chat' | 'normal' | 'groupchat';
  direction: 'in' | 'out';
  /** the contact's bare JID (1:1), or the room's bare JID (room messages and private messages in a room) */
  peer: string;
  nick?: string;
  fromJid: string;
  toJid: string;
  body?: string;
  subject?: string;
  data?: unknown;
  /** the stanza's id attribute */
  messageId?: string;
  /** the archive's XEP-0359 stanza-id (for room messages, the room's) */
  stanzaId?: string;
  sentAt?: Date;
}

/** The SSE event stored with a message, in the same statement. */
export interface EventToStore {
  name: EventName;
  payload: Payload;
}

/** XEP-0184 delivered / XEP-0333 displayed for an outgoing 1:1 message. */
export interface Receipt {
  owner: string;
  peer: string;
  /** the stanza id of the message it acknowledges */
  messageId: string;
  status: 'delivered' | 'displayed';
  /** the full JID that sent the receipt */
  from: string;
  name: EventName;
}

export interface PageInfo {
  limit: number;
  hasMore: boolean;
  before: string | null;
  after: string | null;
}

/**
 * History search with ofchat's query (keywords, to, start, end, room, service) plus cursor pages.
 * Keywords use Postgres full-text search (websearch syntax: words, "phrases", -exclusions).
 */
export interface ChatHistoryQuery {
  owner: string;
  peer?: string;
  room?: string;
  keywords?: string;
  start?: Date;
  end?: Date;
  before?: string;
  after?: string;
  limit: number;
}

export interface ChatHistoryItem {
  id: string;
  type: string;
  direction: 'in' | 'out';
  from: string;
  to: string;
  body: string | null;
  data: unknown;
  stanzaId: string | null;
  archiveId: string | null;
  timestamp: string;
  room?: string;
  nick?: string;
  delivered: boolean;
  displayed: boolean;
  attachments?: unknown[];
}

export interface ChatHistoryPage {
  messages: ChatHistoryItem[];
  page: PageInfo;
}

export interface RoomHistoryQuery {
  room: string;
  /** without an owner: the room as every Parley user stored it, each message once */
  owner?: string;
  before?: string;
  after?: string;
  limit: number;
}

/** One stored room message, named as chat's history names things (`id` = its event id, the cursor). */
export interface RoomHistoryMessage {
  id: string;
  type: 'groupchat';
  room: string;
  nick: string | null;
  from: string;
  body: string | null;
  subject?: string;
  data: unknown;
  stanzaId: string | null;
  archiveId: string | null;
  timestamp: string;
  direction?: 'in' | 'out';
  attachments?: unknown[];
}

export interface RoomHistoryPage {
  messages: RoomHistoryMessage[];
  page: PageInfo;
}

/** An incoming 1:1 message found by event id or XMPP id (for read markers). */
export interface OutgoingRef {
  eventId: string;
  sentAt: Date;
}

export interface IncomingRef {
  rowId: string;
  messageId: string | null;
  eventId: string;
}

/**
 * The admin's view of stored history across 1:1 and rooms, each message once (copies folded; see
 * adminReads.ts). `id` is the row id of the copy shown, and the page cursor.
 */
export interface AdminQuery {
  /** messages this user (bare JID) sent or received 1:1, and room messages they sent through Parley */
  user?: string;
  /** with `user`: only the dialogue with this bare JID */
  peer?: string;
  /** only this room (bare JID) */
  room?: string;
  hasAttachments?: boolean;
  start?: Date;
  end?: Date;
  before?: string;
  after?: string;
  limit: number;
}

export interface AdminMessage {
  id: string;
  type: string;
  from: string;
  to: string;
  room: string | null;
  nick: string | null;
  body: string | null;
  data: unknown;
  stanzaId: string | null;
  archiveId: string | null;
  hasAttachments: boolean;
  timestamp: string;
}

export interface AdminMessagePage {
  messages: AdminMessage[];
  page: PageInfo;
}

/** A message of one owner, as a complaint copies it (ids as the owner's events carry them). */
export interface OwnedMessage {
  id: string;
  type: string;
  from: string;
  to: string;
  /** the contact (1:1) or room */
  peer: string;
  body: string | null;
  data: unknown;
  stanzaId: string | null;
  archiveId: string | null;
  timestamp: string;
}

/** A stored row as the live monitor reads it (every copy; the monitor folds them). */
export interface MonitorRow {
  id: string;
  owner: string;
  kind: string;
  direction: string;
  fromJid: string;
  toJid: string;
  peer: string;
  nick: string | null;
  body: string | null;
  data: unknown;
  messageId: string | null;
  stanzaId: string | null;
  sentAt: Date;
  hasAttachments: boolean;
}

/** The operators' attachments-only view: newest first, walking back with `before`. */
export interface AttachmentMessageQuery {
  owner?: string;
  before?: string;
  limit: number;
}
export interface AttachmentMessage {
  id: string;
  owner: string;
  type: string;
  direction: string;
  from: string;
  to: string;
  room?: string;
  body: string | null;
  timestamp: string;
  attachments: unknown[];
}
export interface AttachmentMessagePage {
  messages: AttachmentMessage[];
  page: { limit: number; hasMore: boolean; before: string | null };
}

export interface PurgeResult {
  cutoff: Date;
  messages: number;
  events: number;
  dryRun: boolean;
}
