import { BridgeError } from '../errors/BridgeError.js';
import { parseJid } from '../xmpp/jid.js';

/**
 * Room addresses from URLs, checked at the edge. `{room}` is a room name (`team`, the JID localpart,
 * ofchat's form) or a room's bare JID (`team@conference.example.org`); the MUC service comes from
 * `?service=` / `?servicename=` (a full domain, or a short name such as ofchat's `conference`, which
 * becomes `conference.<domain>`), else from XMPP_MUC_SERVICE.
 */
export interface RoomAddress {
  jid: string;
  name: string;
  service: string;
}

export interface RoomNaming {
  domain: string;
  mucService: string;
}

export function parseService(raw: string | undefined, naming: RoomNaming): string {
  if (raw === undefined || raw === '') return naming.mucService;
  const service = raw.includes('.') ? raw : `${raw}.${naming.domain}`;
  const jid = parseJid(service, naming.domain, 'MUC service');
  if (jid.local !== undefined || jid.resource !== undefined)
    throw new BridgeError('INVALID_JID', `"${raw.slice(0, 80)}" is not a MUC service domain`);
  return jid.domain;
}

export function parseRoom(raw: string, serviceRaw: string | undefined, naming: RoomNaming): RoomAddress {
  if (raw.includes('/'))
    throw new BridgeError('INVALID_JID', `"${raw.slice(0, 80)}" is not a room name: it must not contain "/"`);
  const input = raw.includes('@') ? raw : `${raw}@${parseService(serviceRaw, naming)}`;
  const jid = parseJid(input, naming.domain, 'room name');
  if (!jid.local) throw new BridgeError('INVALID_JID', `"${raw.slice(0, 80)}" is not a room name`);
  return { jid: jid.bare, name: jid.local, service: jid.domain };
}

/**
 * A nickname is the resource of the occupant JID: 1–1023 bytes, no control characters, not blank
 * (Prosody refuses "invisible" nicks; leading/trailing spaces would make two nicks look alike).
 */
export function parseNick(raw: string, what = 'nickname'): string {
  const nick = raw.normalize('NFC');
  if (!nick.trim() || nick !== nick.trim() || Buffer.byteLength(nick) > 1023 || /\p{Cc}/u.test(nick)) {
    throw new BridgeError(
      'BAD_REQUEST',
      `"${raw.slice(0, 80)}" is not a valid ${what} (1–1023 bytes, no control characters, no surrounding spaces)`,
    );
  }
  return nick;
}
