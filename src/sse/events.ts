/**
 * SSE event names (ofchat's, plus Parley's additions with the same prefix) and the envelope every
 * delivered event has. Payload shapes follow ofchat (reference §1.8) and are documented in openapi.yaml.
 */
export const EVENT_NAMES = {
  chat: 'chatapi.chat',
  muc: 'chatapi.muc',
  presence: 'chatapi.presence',
  assist: 'chatapi.assist',
  ask: 'chatapi.ask',
  notify: 'chatapi.notify',
  xmpp: 'chatapi.xmpp',
  receipt: 'chatapi.receipt',
  call: 'chatapi.call',
  bookmarks: 'chatapi.bookmarks',
  session: 'chatapi.session',
  group: 'chatapi.group',
} as const;

export type EventName = (typeof EVENT_NAMES)[keyof typeof EVENT_NAMES];

export type Payload = Record<string, unknown>;

/** An event as delivered: durable ones carry the row id (SSE `id:`) and the time it was stored. */
export interface DeliveredEvent {
  name: EventName;
  payload: Payload;
  /** present only for durable events */
  id?: string;
}

export interface SessionEventPayload extends Payload {
  type: 'online' | 'reconnecting' | 'offline';
  streamId: string;
  jid: string;
  reason?: string;
}
