import type { Element } from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import type { AdminConnection } from '../xmpp/admin/AdminConnection.js';
import { readAdminItems, readItems, readRoomInfo, type RoomInfo } from './inbound.js';
import type { RoomAddress } from './names.js';
import type { Occupant, RoomRegistry } from './RoomState.js';
import { adminGet, discoInfo, discoItems } from '../xmpp/muc/stanzas.js';

/** Anything that can ask the XMPP server a question: a user's session or Parley's admin connection. */
export interface Asker {
  iq(stanza: Element, timeoutMs?: number, what?: string): Promise<Element>;
}

/** Who calls a room route that names no stream: the master secret, or a user (with their live session, if any). */
export interface RoomCaller {
  master: boolean;
  username?: string;
  session?: UserSession;
}

/**
 * Room discovery asks the XMPP server as the caller, so the MUC service applies its own rules: a user's
 * questions go over their own live session (their view: the rooms, occupants' real JIDs and affiliation
 * lists their affiliation and role allow; a refusal comes back as 403 through the error table). Only the
 * master secret asks over Parley's admin connection, which Prosody treats as owner of every room.
 */
export function askerFor(caller: RoomCaller, admin: AdminConnection | undefined): Asker {
  if (caller.master) {
    if (admin?.isOnline) return admin;
    throw new BridgeError(
      'XMPP_UNAVAILABLE',
      admin
        ? "Parley's admin XMPP connection is not online; try again shortly"
        : "room discovery with the master secret needs Parley's admin connection (XMPP_ADMIN_JID)",
      { retryAfter: 5 },
    );
  }
  if (caller.session?.isOnline) return caller.session;
  if (caller.session)
    throw new BridgeError('XMPP_UNAVAILABLE', 'your XMPP session is reconnecting; try again shortly', {
      retryAfter: 5,
    });
  throw new BridgeError(
    'STREAM_NOT_FOUND',
    `room discovery asks over your own XMPP session, and ${caller.username ?? 'this user'} has none on this instance; log in first`,
  );
}

export interface RoomListItem {
  jid: string;
  room: string;
  name: string | null;
}

/** ejabberd's disco#items name is the room's name with its occupant count appended: "Team (3)". */
const COUNTED_NAME = / \(\d+\)$/;
const NAME_LOOKUPS_AT_ONCE = 8;

/**
 * disco#items of the MUC service (XEP-0045 §6.3), filtered by `search` (case-insensitive, name or JID).
 * A name that may carry ejabberd's occupant count is read from the room's own disco#info instead (the
 * room's configured name, exactly as GET /rooms/{room} answers it), a few rooms at a time.
 */
export async function listRooms(asker: Asker, service: string, search?: string): Promise<RoomListItem[]> {
  const items = readItems(await asker.iq(discoItems(service), 10_000, `listing the rooms of ${service}`));
  const needle = search?.toLowerCase();
  const found = items
    .map((i) => ({ jid: i.jid, room: i.jid.split('@')[0]!, name: i.name ?? null }))
    .filter(
      (r) => !needle || r.jid.toLowerCase().includes(needle) || (r.name ?? '').toLowerCase().includes(needle),
    )
    .sort((a, b) => a.jid.localeCompare(b.jid));
  const counted = found.filter((r) => r.name !== null && COUNTED_NAME.test(r.name));
  for (let i = 0; i < counted.length; i += NAME_LOOKUPS_AT_ONCE) {
    await Promise.all(
      counted.slice(i, i + NAME_LOOKUPS_AT_ONCE).map(async (r) => {
        // A room that went away meanwhile keeps the listed name.
        const info = await asker.iq(discoInfo(r.jid), 10_000, `looking up ${r.jid}`).catch(() => undefined);
        if (info) r.name = readRoomInfo(r.jid, info).name ?? null;
      }),
    );
  }
  return found;
}

export async function roomInfo(asker: Asker, addr: RoomAddress): Promise<RoomInfo> {
  return readRoomInfo(addr.jid, await asker.iq(discoInfo(addr.jid), 10_000, `looking up ${addr.jid}`));
}

/**
 * Occupants by role (§9.x muc#admin role lists, which need a moderator). A caller who is in the room
 * answers from what their session saw, which needs no rights (and shows real JIDs only where the room
 * shows them to this occupant).
 */
export async function occupants(
  asker: Asker,
  addr: RoomAddress,
  caller: RoomCaller,
  registry: RoomRegistry,
  localSessions: () => UserSession[] = () => [],
): Promise<Occupant[]> {
  const mine = caller.session ? registry.of(caller.session).rooms.get(addr.jid) : undefined;
  if (mine?.status === 'joined' && asker === caller.session) return [...mine.occupants.values()].sort(byNick);
  await roomInfo(asker, addr); // 404 for a room that does not exist, rather than empty lists
  let lists: Element[];
  try {
    lists = await Promise.all(
      ['moderator', 'participant', 'visitor'].map((role) =>
        asker.iq(adminGet(addr.jid, { role }), 10_000, `listing the ${role}s of ${addr.jid}`),
      ),
    );
  } catch (err) {
    // Prosody answers role lists to the service admin; ejabberd only to an occupant who is a moderator
    // (its admins are owners by affiliation, not occupants). The master secret then reads the room as a
    // Parley user in it sees it, as that user's own request would.
    const seen =
      caller.master &&
      err instanceof BridgeError &&
      err.code === 'FORBIDDEN' &&
      inRoom(addr, registry, localSessions());
    if (!seen) throw err;
    return [...seen.occupants.values()].sort(byNick);
  }
  return lists
    .flatMap(readAdminItems)
    .map((i) => ({
      nick: i.nick ?? '',
      role: (i.role ?? 'none') as Occupant['role'],
      affiliation: (i.affiliation ?? 'none') as Occupant['affiliation'],
      ...(i.jid ? { jid: i.jid } : {}),
    }))
    .sort(byNick);
}

/** The room as a local session in it sees it (occupants with roles); a moderator's view first, which has the real JIDs. */
function inRoom(addr: RoomAddress, registry: RoomRegistry, sessions: UserSession[]) {
  const views = sessions.map((s) => registry.of(s).rooms.get(addr.jid)).filter((r) => r?.status === 'joined');
  return views.find((r) => r?.role === 'moderator') ?? views[0];
}

export interface Participant {
  jid: string;
  affiliation: string;
  nick?: string;
}

/** Affiliation lists (§9.5, §10.5): owners, admins, members, outcasts; the lists the asker may not see are left out. */
export async function participants(asker: Asker, addr: RoomAddress): Promise<Participant[]> {
  await roomInfo(asker, addr);
  const lists = await Promise.allSettled(
    ['owner', 'admin', 'member', 'outcast'].map(async (affiliation) =>
      readAdminItems(
        await asker.iq(
          adminGet(addr.jid, { affiliation }),
          10_000,
          `listing the ${affiliation}s of ${addr.jid}`,
        ),
      ).map((i) => ({ jid: i.jid ?? '', affiliation, ...(i.nick ? { nick: i.nick } : {}) })),
    ),
  );
  const seen = lists.filter((l): l is PromiseFulfilledResult<Participant[]> => l.status === 'fulfilled');
  if (!seen.length) throw (lists[0] as PromiseRejectedResult).reason;
  return seen.flatMap((l) => l.value);
}

const byNick = (a: { nick: string }, b: { nick: string }): number => a.nick.localeCompare(b.nick);
