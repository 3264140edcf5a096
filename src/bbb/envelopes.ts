/**
 * BigBlueButton's Redis messages, exactly as BBB's own components write them (reference §2.2–§2.5 and
 * ./bbb-samples): `{envelope: {name, routing, timestamp}, core: {header, body}}`, fields in Jackson's
 * declaration order. akka-apps rejects unknown or missing fields, so the outbound builders mirror the
 * official clients field for field.
 */
export const PUBLIC_CHAT_ID = 'MAIN-PUBLIC-GROUP-CHAT';

export interface BbbEnvelope {
  envelope: { name: string; routing: Record<string, string>; timestamp: number };
  core: { header: { name: string; meetingId?: string; userId?: string }; body: Record<string, unknown> };
}

/** The inbound messages Parley acts on, by name; everything else on the channels is skipped unparsed. */
export const HANDLED = [
  'UserJoinedMeetingEvtMsg',
  'UserLeftMeetingEvtMsg',
  'GroupChatMessageBroadcastEvtMsg',
  'MeetingEndedEvtMsg',
  'MeetingDestroyedEvtMsg',
  'ClearPublicChatHistoryPubMsg',
] as const;
export type HandledName = (typeof HANDLED)[number];

const NAME = /"name"\s*:\s*"(\w+)"/;

/**
 * Cheap pre-filter: BBB's channels carry every client request and event of every meeting, so only
 * messages whose first `name` is one Parley handles are parsed (the envelope's name comes first).
 */
export function parseHandled(raw: string): { name: HandledName; msg: BbbEnvelope } | undefined {
  const name = NAME.exec(raw.slice(0, 200))?.[1];
  if (!name || !(HANDLED as readonly string[]).includes(name)) return undefined;
  let msg: BbbEnvelope;
  try {
    msg = JSON.parse(raw) as BbbEnvelope;
  } catch {
    return undefined;
  }
  if (msg?.core?.header?.name !== name || typeof msg.core.body !== 'object' || msg.core.body === null)
    return undefined;
  return { name: name as HandledName, msg };
}

/** BBB 2.x: SendGroupChatMessageMsg as the joined bridge user (2.4–2.7 html5 client shape). */
export function sendGroupChatMessageMsg(m: {
  meetingId: string;
  userId: string;
  message: string;
  now: number;
}): BbbEnvelope {
  const name = 'SendGroupChatMessageMsg';
  return {
    envelope: { name, routing: { meetingId: m.meetingId, userId: m.userId }, timestamp: m.now },
    core: {
      header: { name, meetingId: m.meetingId, userId: m.userId },
      body: {
        msg: {
          correlationId: `${m.userId}-${m.now}`,
          sender: { id: m.userId, name: '', role: '' },
          chatEmphasizedText: false,
          message: m.message,
        },
        chatId: PUBLIC_CHAT_ID,
      },
    },
  };
}

/** BBB 3.x: what bbb-web's sendChatMessage API publishes; akka posts it as the system user named `userName`. */
export function sendGroupChatMessageFromApiSysPubMsg(m: {
  meetingId: string;
  userName: string;
  message: string;
  now: number;
}): BbbEnvelope {
  const name = 'SendGroupChatMessageFromApiSysPubMsg';
  return {
    envelope: { name, routing: { sender: 'bbb-web' }, timestamp: m.now },
    core: {
      header: { name, meetingId: m.meetingId, userId: 'not-used' },
      body: { userName: m.userName, message: m.message },
    },
  };
}

/** Reading fields of inbound bodies without trusting their types. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
