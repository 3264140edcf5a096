/**
 * Moderation over a user's session (XEP-0045 §8 moderator, §9 admin, §10 owner use cases). The room
 * decides who may do what; its refusals come back through the error table (forbidden / not-allowed →
 * 403, item-not-found → 404, …) with the XMPP condition.
 */
import type { UserSession } from '../xmpp/client/UserSession.js';
import { parseJid } from '../xmpp/jid.js';
import type { RoomAddress } from './names.js';
import { adminSet, destroyRoom } from '../xmpp/muc/stanzas.js';

export const AFFILIATIONS = ['owner', 'admin', 'member', 'none', 'outcast'] as const;
export const ROLES = ['moderator', 'participant', 'visitor', 'none'] as const;
export type SettableAffiliation = (typeof AFFILIATIONS)[number];
export type SettableRole = (typeof ROLES)[number];

/** owner / admin / member / none, or outcast (= ban, which also removes the user from the room). */
export async function setAffiliation(
  session: UserSession,
  domain: string,
  room: RoomAddress,
  jidRaw: string,
  affiliation: SettableAffiliation,
  reason?: string,
): Promise<string> {
  // Affiliations belong to bare JIDs (§5.2).
  const jid = parseJid(jidRaw, domain, 'user JID').bare;
  await session.iq(
    adminSet(room.jid, { jid, affiliation }, reason),
    10_000,
    `setting the affiliation of ${jid} in ${room.jid}`,
  );
  return jid;
}

/** moderator / participant / visitor (voice), or none (= kick). */
export async function setRole(
  session: UserSession,
  room: RoomAddress,
  nick: string,
  role: SettableRole,
  reason?: string,
): Promise<void> {
  await session.iq(
    adminSet(room.jid, { nick, role }, reason),
    10_000,
    `setting the role of ${nick} in ${room.jid}`,
  );
}

export async function destroy(session: UserSession, room: RoomAddress, reason?: string): Promise<void> {
  await session.iq(destroyRoom(room.jid, reason), 10_000, `destroying ${room.jid}`);
}
