import type { Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { readGroupchat } from '../xmpp/muc/read.js';

/** A room message the bridge forwards into BBB. */
export interface RoomMessage {
  room: string;
  nick: string;
  body: string;
  /** what BBB's dedup and the callback's idempotency key go by: the room's archive id, else the message id */
  source: string;
}

/** A live occupant's groupchat with a body; room history (XEP-0203 delay) and the room's own messages are not BBB's. */
export function readRoomMessage(el: Element): RoomMessage | undefined {
  const g = readGroupchat(el);
  if (!g || g.historic || !g.body || g.nick === undefined) return undefined;
  return { room: g.room, nick: g.nick, body: g.body, source: g.stanzaId ?? g.id ?? randomUUID() };
}
