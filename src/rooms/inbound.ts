/**
 * Pure readers of the MUC stanzas Parley receives (no I/O).
 * References: XEP-0045 §7.2.2 presence and status codes, §7.8 invitations, §9 admin lists, §6.4 room
 * info; XEP-0249 direct invitations; XEP-0313 MAM results; XEP-0030 disco; RFC 6120 §8.3 errors.
 */
import type { Element } from '@xmpp/xml';
import { NS } from '../xmpp/ns.js';
import type { StanzaErrorLike } from '../errors/fromStanzaError.js';
import { readDelay } from '../xmpp/stanzas/message.js';
import { bareJid, resourceOf } from '../xmpp/jid.js';

export type Role = 'moderator' | 'participant' | 'visitor' | 'none';
export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none';

export interface OccupantPresence {
  room: string;
  nick: string;
  available: boolean;
  self: boolean;
  role: Role;
  affiliation: Affiliation;
  jid?: string;
  show?: string;
  status?: string;
  codes: string[];
  actor?: string;
  reason?: string;
  newNick?: string;
  destroyed?: { reason?: string; alternate?: string };
}

/** An occupant's presence (join, change, leave) as XEP-0045 §7.2 describes it; undefined for others. */
export function readOccupant(p: Element): OccupantPresence | undefined {
  const from = String(p.attrs.from ?? '');
  const nick = resourceOf(from);
  const x = p.getChild('x', NS.mucUser);
  if (!nick || !x) return undefined;
  const item = x.getChild('item');
  const codes = x
    .getChildren('status')
    .map((s) => String(s.attrs.code ?? ''))
    .filter(Boolean);
  const destroy = x.getChild('destroy');
  const available = p.attrs.type !== 'unavailable';
  return {
    room: bareJid(from),
    nick,
    available,
    // A destroyed room sends each occupant one presence about itself; §10.9's example (and ejabberd)
    // carries no status 110 there, Prosody does.
    self: codes.includes('110') || (!available && destroy !== undefined),
    role: (item?.attrs.role ?? 'none') as Role,
    affiliation: (item?.attrs.affiliation ?? 'none') as Affiliation,
    jid: optional(item?.attrs.jid),
    show: optional(p.getChildText('show')),
    status: optional(p.getChildText('status')),
    codes,
    actor: optional(item?.getChild('actor')?.attrs.nick),
    reason: optional(item?.getChildText('reason')),
    newNick: optional(item?.attrs.nick),
    ...(destroy
      ? {
          destroyed: {
            reason: optional(destroy.getChildText('reason')),
            alternate: optional(destroy.attrs.jid),
          },
        }
      : {}),
  };
}

/** Why our own occupant left the room, from its unavailable self-presence (§7.2.2 status codes). */
export function leaveCause(
  o: OccupantPresence,
): 'self' | 'kicked' | 'banned' | 'destroyed' | 'affiliation' | 'membersOnly' | 'shutdown' {
  if (o.destroyed) return 'destroyed';
  if (o.codes.includes('301')) return 'banned';
  if (o.codes.includes('307')) return 'kicked';
  if (o.codes.includes('321')) return 'affiliation';
  if (o.codes.includes('322')) return 'membersOnly';
  if (o.codes.includes('332')) return 'shutdown';
  return 'self';
}

/** The `<error/>` of an error stanza as the error table reads it. */
export function readError(stanza: Element): StanzaErrorLike {
  const error = stanza.getChild('error');
  const condition = error?.children.find(
    (c): c is Element => typeof c !== 'string' && c.attrs.xmlns === NS.stanzas && c.name !== 'text',
  );
  return {
    condition: condition?.name ?? 'undefined-condition',
    text: optional(error?.getChildText('text', NS.stanzas)),
    element: error,
  };
}

export interface Invitation {
  room: string;
  from: string;
  inviter: string;
  to: string;
  reason?: string;
  password?: string;
  direct: boolean;
}

/** A mediated (§7.8.2, from the room) or direct (XEP-0249, from the inviter) invitation. */
export function readInvitation(msg: Element): Invitation | undefined {
  const from = String(msg.attrs.from ?? '');
  const to = String(msg.attrs.to ?? '');
  const invite = msg.getChild('x', NS.mucUser)?.getChild('invite');
  if (invite) {
    const x = msg.getChild('x', NS.mucUser)!;
    return {
      room: bareJid(from),
      from,
      to,
      inviter: String(invite.attrs.from ?? from),
      direct: false,
      reason: optional(invite.getChildText('reason')),
      password: optional(x.getChildText('password')),
    };
  }
  const direct = msg.getChild('x', NS.conference);
  if (direct?.attrs.jid) {
    return {
      room: bareJid(String(direct.attrs.jid)),
      from,
      to,
      inviter: from,
      direct: true,
      // Prosody's mediated invites carry a legacy copy with the reason as text; XEP-0249 uses the attribute.
      reason: optional(direct.attrs.reason) ?? optional(direct.text()),
      password: optional(direct.attrs.password),
    };
  }
  return undefined;
}

export interface ArchivedMessage {
  queryId: string;
  archiveId: string;
  msg: Element;
  sentAt?: Date;
}

/** One XEP-0313 result: the archived groupchat message, its archive id (= the room's stanza-id) and time. */
export function readMamResult(stanza: Element): ArchivedMessage | undefined {
  const result = stanza.getChild('result', NS.mam);
  const forwarded = result?.getChild('forwarded', NS.forward);
  const msg = forwarded?.getChild('message');
  if (!result || !msg || !result.attrs.id) return undefined;
  return {
    queryId: String(result.attrs.queryid ?? ''),
    archiveId: String(result.attrs.id),
    msg,
    sentAt: readDelay(forwarded!),
  };
}

export interface RoomInfo {
  jid: string;
  name?: string;
  description?: string;
  subject?: string;
  occupants?: number;
  language?: string;
  features: string[];
  public: boolean;
  persistent: boolean;
  membersOnly: boolean;
  passwordProtected: boolean;
  moderated: boolean;
  anonymous: 'semi' | 'non' | 'fully';
  archived: boolean;
}

/** §6.4 room information (disco#info with the muc#roominfo form). */
export function readRoomInfo(jid: string, result: Element): RoomInfo {
  const query = result.getChild('query', NS.discoInfo);
  const features = (query?.getChildren('feature') ?? []).map((f) => String(f.attrs.var));
  const fields = new Map(
    (query?.getChild('x', NS.dataForms)?.getChildren('field') ?? []).map(
      (f) => [String(f.attrs.var), f.getChildText('value') ?? undefined] as const,
    ),
  );
  const has = (f: string) => features.includes(f);
  const identity = query?.getChild('identity');
  const occupants = Number(fields.get('muc#roominfo_occupants'));
  return {
    jid,
    name: optional(fields.get('muc#roomconfig_roomname')) ?? optional(identity?.attrs.name),
    description: optional(fields.get('muc#roominfo_description')),
    subject: optional(fields.get('muc#roominfo_subject')),
    occupants: Number.isFinite(occupants) && fields.has('muc#roominfo_occupants') ? occupants : undefined,
    language: optional(fields.get('muc#roominfo_lang')),
    features,
    public: has('muc_public'),
    persistent: has('muc_persistent'),
    membersOnly: has('muc_membersonly'),
    passwordProtected: has('muc_passwordprotected'),
    moderated: has('muc_moderated'),
    anonymous: has('muc_nonanonymous') ? 'non' : has('muc_fullyanonymous') ? 'fully' : 'semi',
    archived: has(NS.mam),
  };
}

export function readItems(result: Element): { jid: string; name?: string }[] {
  return (result.getChild('query', NS.discoItems)?.getChildren('item') ?? []).map((i) => ({
    jid: String(i.attrs.jid),
    name: optional(i.attrs.name),
  }));
}

export function readAdminItems(
  result: Element,
): { jid?: string; nick?: string; role?: string; affiliation?: string }[] {
  return (result.getChild('query', NS.mucAdmin)?.getChildren('item') ?? []).map((i) => ({
    jid: optional(i.attrs.jid),
    nick: optional(i.attrs.nick),
    role: optional(i.attrs.role),
    affiliation: optional(i.attrs.affiliation),
  }));
}

function optional(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
