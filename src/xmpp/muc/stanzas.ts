/**
 * Pure builders of the MUC stanzas Parley sends (no I/O), for both kinds of occupant: a user's own
 * session (the rooms feature; the server stamps `from`) and a component's puppets (workgroup, BBB
 * bridge), which must name their own `from` — hence the optional `from` of each builder.
 * References: XEP-0045 (Multi-User Chat) §7.2 join, §7.8 invitations, §8–§10 moderation and owner
 * use cases, §10.1 room configuration; XEP-0249 direct invitations; XEP-0313 MAM; XEP-0059 RSM;
 * XEP-0004 data forms; XEP-0030 service discovery.
 */
import xml, { type Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { NS } from '../ns.js';

/** `{ from }` when a component speaks for one of its occupants, nothing for a user's own session. */
const sender = (from: string | undefined): { from?: string } => (from ? { from } : {});

export function joinPresence(
  room: string,
  nick: string,
  opts: { password?: string; maxStanzas: number; from?: string },
): Element {
  const x = xml('x', { xmlns: NS.muc }, xml('history', { maxstanzas: String(opts.maxStanzas) }));
  if (opts.password !== undefined) x.append(xml('password', {}, opts.password));
  return xml('presence', { ...sender(opts.from), to: `${room}/${nick}`, id: randomUUID() }, x);
}

export function leavePresence(room: string, nick: string, from?: string): Element {
  return xml('presence', { ...sender(from), to: `${room}/${nick}`, type: 'unavailable', id: randomUUID() });
}

/** A room message with an origin-id (XEP-0359) equal to its id, and the sender's JSON beside the body. */
export function groupchat(room: string, body: string, opts: { from?: string; data?: unknown } = {}): Element {
  const id = randomUUID();
  const msg = xml(
    'message',
    { ...sender(opts.from), to: room, type: 'groupchat', id },
    xml('body', {}, body),
  );
  if (opts.data !== undefined && opts.data !== null)
    msg.append(xml('data', { xmlns: NS.parleyData }, JSON.stringify(opts.data)));
  msg.append(xml('origin-id', { xmlns: NS.sid, id }));
  return msg;
}

/** Options a room is created with; only the ones given are submitted, the rest keep the server defaults. */
export interface RoomOptions {
  persistent?: boolean;
  public?: boolean;
  membersOnly?: boolean;
  moderated?: boolean;
  password?: string;
  name?: string;
  description?: string;
  /** occupants may invite others (Prosody's default; ejabberd's is owners and moderators only) */
  allowInvites?: boolean;
}

const FIELDS: Record<keyof RoomOptions, string> = {
  persistent: 'muc#roomconfig_persistentroom',
  public: 'muc#roomconfig_publicroom',
  membersOnly: 'muc#roomconfig_membersonly',
  moderated: 'muc#roomconfig_moderatedroom',
  password: 'muc#roomconfig_roomsecret',
  name: 'muc#roomconfig_roomname',
  description: 'muc#roomconfig_roomdesc',
  allowInvites: 'muc#roomconfig_allowinvites',
};

/** Owner configuration (§10.1.3). An empty form is the "instant room" that unlocks a new room. */
export function configSubmit(room: string, options: RoomOptions, from?: string): Element {
  const form = xml('x', { xmlns: NS.dataForms, type: 'submit' });
  const set = Object.entries(options).filter(([, v]) => v !== undefined) as [
    keyof RoomOptions,
    string | boolean,
  ][];
  if (set.length) {
    form.append(field('FORM_TYPE', NS.mucRoomConfig));
    for (const [key, value] of set) {
      form.append(field(FIELDS[key], typeof value === 'boolean' ? (value ? '1' : '0') : value));
      // XEP-0045 servers other than Prosody want the flag alongside the secret.
      if (key === 'password') form.append(field('muc#roomconfig_passwordprotectedroom', value ? '1' : '0'));
    }
  }
  return xml('iq', { ...sender(from), type: 'set', to: room }, xml('query', { xmlns: NS.mucOwner }, form));
}

const field = (name: string, value: string): Element => xml('field', { var: name }, xml('value', {}, value));

export function destroyRoom(room: string, reason?: string, from?: string): Element {
  const destroy = xml('destroy', {});
  if (reason) destroy.append(xml('reason', {}, reason));
  return xml('iq', { ...sender(from), type: 'set', to: room }, xml('query', { xmlns: NS.mucOwner }, destroy));
}

/** muc#admin item change: `{nick, role}` (kick, voice, moderator) or `{jid, affiliation}` (ban, membership). */
export function adminSet(
  room: string,
  item: { nick?: string; jid?: string; role?: string; affiliation?: string },
  reason?: string,
): Element {
  const attrs = Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const el = xml('item', attrs);
  if (reason) el.append(xml('reason', {}, reason));
  return xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS.mucAdmin }, el));
}

export function adminGet(room: string, item: { role: string } | { affiliation: string }): Element {
  return xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS.mucAdmin }, xml('item', item)));
}

/** §7.8.2 mediated invitation: sent to the room, which forwards it (with the password, if any). */
export function mediatedInvite(room: string, invitee: string, reason?: string, from?: string): Element {
  const invite = xml('invite', { to: invitee });
  if (reason) invite.append(xml('reason', {}, reason));
  return xml(
    'message',
    { ...sender(from), to: room, id: randomUUID() },
    xml('x', { xmlns: NS.mucUser }, invite),
  );
}

/** XEP-0249 direct invitation: sent straight to the invitee. */
export function directInvite(
  room: string,
  invitee: string,
  opts: { reason?: string; password?: string },
): Element {
  const attrs: Record<string, string> = { xmlns: NS.conference, jid: room };
  if (opts.reason) attrs.reason = opts.reason;
  if (opts.password) attrs.password = opts.password;
  return xml('message', { to: invitee, id: randomUUID() }, xml('x', attrs));
}

export function subjectMessage(room: string, subject: string): Element {
  return xml('message', { to: room, type: 'groupchat', id: randomUUID() }, xml('subject', {}, subject));
}

export function discoInfo(to: string): Element {
  return xml('iq', { type: 'get', to }, xml('query', { xmlns: NS.discoInfo }));
}

export function discoItems(to: string): Element {
  return xml('iq', { type: 'get', to }, xml('query', { xmlns: NS.discoItems }));
}

/** One MAM page of the room's archive after `after` (a room stanza-id), oldest first. */
export function mamQuery(room: string, queryId: string, after: string | undefined, max: number): Element {
  const set = xml('set', { xmlns: NS.rsm }, xml('max', {}, String(max)));
  if (after) set.append(xml('after', {}, after));
  return xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS.mam, queryid: queryId }, set));
}
