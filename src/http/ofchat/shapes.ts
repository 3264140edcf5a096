/**
 * Pure mappers from Parley's answers to the JSON ofchat's Jersey 1 serializes (JAXB "mapped" notation).
 * What clients depend on (read from igniterealtime/Openfire-Chat and its bundled REST API classes):
 *  - the root element is dropped, a list property is named after its element (`participant`, `conversation`);
 *  - a list of one item collapses to that item, an empty list leaves the property out;
 *  - every scalar is a string (`"messageCount":"3"`, `"inQueue":"true"`), dates are xsd:dateTime;
 *  - a null property is left out.
 */

/** Jersey 1's list: absent when empty, the item itself when there is one, else an array. */
export function jerseyList<T>(items: T[]): T | T[] | undefined {
  if (items.length === 0) return undefined;
  return items.length === 1 ? items[0] : items;
}

/** Scalars as strings and nulls left out, as JAXB's mapped JSON writes them. */
export function jerseyObject(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'object' ? v : String(v);
  }
  return out;
}

/** `{ "<name>": list }`, or `{}` for an empty list. */
export function wrapList(name: string, items: unknown[]): Record<string, unknown> {
  const list = jerseyList(items);
  return list === undefined ? {} : { [name]: list };
}

export interface OccupantView {
  nick: string;
  role: string;
  affiliation: string;
  jid?: string;
}

/** MUCRoomController.getRoomParticipants: every occupant as `room@service/nick`, with role and affiliation. */
export function participantsShape(room: string, occupants: OccupantView[]): Record<string, unknown> {
  return wrapList(
    'participant',
    occupants.map((o) =>
      jerseyObject({ jid: `${room}/${o.nick}`, role: o.role, affiliation: o.affiliation }),
    ),
  );
}

/** MUCRoomController.getRoomOccupants: as participants, plus the occupant's real address where it is known. */
export function occupantsShape(room: string, occupants: OccupantView[]): Record<string, unknown> {
  return wrapList(
    'occupant',
    occupants.map((o) =>
      jerseyObject({
        jid: `${room}/${o.nick}`,
        role: o.role,
        affiliation: o.affiliation,
        userAddress: o.jid ?? `${room}/${o.nick}`,
      }),
    ),
  );
}

export interface HistoryMessage {
  id: string;
  from: string;
  to: string;
  body: string | null;
  timestamp: string;
  room?: string;
}

/** The Monitoring plugin closes a conversation after 10 idle minutes (conversation.idleTime). */
const IDLE_MS = 10 * 60_000;

/**
 * ChatService.getConversations: the Monitoring plugin's `Conversations`. Parley's stored messages are
 * grouped by peer or room, split where the conversation was idle for 10 minutes, oldest first.
 */
export function conversationsShape(owner: string, messages: HistoryMessage[]): Record<string, unknown> {
  const sorted = [...messages].sort(
    (a, b) => a.timestamp.localeCompare(b.timestamp) || Number(a.id) - Number(b.id),
  );
  const open = new Map<string, HistoryMessage[][]>();
  const order: HistoryMessage[][] = [];
  for (const m of sorted) {
    const key = m.room ?? peerOf(owner, m);
    const runs = open.get(key) ?? [];
    const last = runs[runs.length - 1];
    const prev = last?.[last.length - 1];
    if (last && prev && Date.parse(m.timestamp) - Date.parse(prev.timestamp) <= IDLE_MS) last.push(m);
    else {
      const run = [m];
      runs.push(run);
      order.push(run);
      open.set(key, runs);
    }
  }
  return wrapList(
    'conversation',
    order.map((run) => conversation(owner, run)),
  );
}

function conversation(owner: string, run: HistoryMessage[]): Record<string, unknown> {
  const first = run[0]!;
  const id = first.id;
  const participants = first.room ? [...new Set(run.map((m) => m.from))] : [owner, peerOf(owner, first)];
  return {
    ...jerseyObject({
      conversationID: id,
      external: false,
      startDate: first.timestamp,
      lastActivity: run[run.length - 1]!.timestamp,
      messageCount: run.length,
      chatRoom: first.room,
    }),
    participantList: jerseyList(participants),
    messages: wrapList(
      'message',
      run.map((m) =>
        jerseyObject({
          conversationID: id,
          from: m.from,
          to: m.to,
          sentDate: m.timestamp,
          body: m.body ?? '',
          roomEvent: false,
        }),
      ),
    ),
  };
}

const bare = (jid: string): string => jid.split('/')[0]!;

function peerOf(owner: string, m: HistoryMessage): string {
  const from = bare(m.from);
  return from === owner ? bare(m.to) : from;
}

/** ofchat's ErrorResponse (RESTExceptionMapper): the message is in `ressource`, as ChatService throws it. */
export function errorShape(detail: string): Record<string, string> {
  return { ressource: detail, message: 'Exception', exception: 'IllegalArgumentException' };
}

/** AskService.queryAssistance's AskQueue (−1 when unknown). */
export function askQueueShape(view: Record<string, unknown>): Record<string, unknown> {
  return jerseyObject({
    workgroupJID: view.workgroupJID,
    inQueue: view.inQueue,
    available: view.available,
    queuePosition: view.queuePosition,
    queueRemainingTime: view.queueRemainingTime,
  });
}
