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
 * Room discovery answers what the server tells whoever asks: the caller's own session where there is
 * one (their view: hidden or members-only rooms they may see), else Parley's admin connection (which
 * Prosody treats as owner of every room, so it may list occupants and affiliations). `prefer: 'admin'`
 * flips the order for the lists that need those rights.
 */
export function askerFor(
  caller: RoomCaller,
  admin: AdminConnection | undefined,
  prefer: 'caller' | 'admin',
): Asker {
  const session = caller.session?.isOnline ? caller.session : undefined;
  const adminOnline = admin?.isOnline ? admin : undefined;
  const asker = prefer === 'admin' ? (adminOnline ?? session) : (session ?? adminOnline);
  if (asker) return asker;
  throw new BridgeError(
    'XMPP_UNAVAILABLE',
    admin
      ? "Parley's admin XMPP connection is not online and the caller has no live session; try again shortly"
      : "room discovery needs the caller's live session (log in first) or Parley's admin connection (XMPP_ADMIN_JID)",
    { retryAfter: 5 },
  );
}

export interface RoomListItem {
  jid: string;
  room: string;
  name: string | null;
}

/** disco#items of the MUC service (XEP-0045 §6.3), filtered by `search` (case-insensitive, name or JID). */
export async function listRooms(asker: Asker, service: string, search?: string): Promise<RoomListItem[]> {
  const items = readItems(await asker.iq(discoItems(service), 10_000, `listing the rooms of ${service}`));
  const needle = search?.toLowerCase();
  return items
    .map((i) => ({ jid: i.jid, room: i.jid.split('@')[0]!, name: i.name ?? null }))
    .filter(
      (r) => !needle || r.jid.toLowerCase().includes(needle) || (r.name ?? '').toLowerCase().includes(needle),
    )
    .sort((a, b) => a.jid.localeCompare(b.jid));
}

export async function roomInfo(asker: Asker, addr: RoomAddress): Promise<RoomInfo> {
  return readRoomInfo(addr.jid, await asker.iq(discoInfo(addr.jid), 10_000, `looking up ${addr.jid}`));
}

/**
 * Occupants by role (§9.x muc#admin role lists, which need a moderator). A caller who is in the room
 * answers from what their session saw, which needs no rights.
 */
export async function occupants(
  asker: Asker,
  addr: RoomAddress,
  caller: RoomCaller,
  registry: RoomRegistry,
): Promise<Occupant[]> {
  const mine = caller.session ? registry.of(caller.session).rooms.get(addr.jid) : undefined;
  if (mine?.status === 'joined' && asker === caller.session) return [...mine.occupants.values()].sort(byNick);
  await roomInfo(asker, addr); // 404 for a room that does not exist, rather than empty lists
  const lists = await Promise.all(
    ['moderator', 'participant', 'visitor'].map((role) =>
      asker.iq(adminGet(addr.jid, { role }), 10_000, `listing the ${role}s of ${addr.jid}`),
    ),
  );
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
