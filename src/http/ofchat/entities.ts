import { jerseyList, jerseyObject, wrapList } from './shapes.js';

/**
 * ofchat's REST API entities (the classes Openfire-Chat bundles from openfire-restAPI-plugin) as Jersey 1
 * writes them, built from Parley's answers. Element names come from their JAXB annotations:
 *  - RosterEntities `roster` → `rosterItem` {jid, nickname, subscriptionType, groups: {group}, show, status};
 *  - UserEntities `users` → `user` {username, name, email};
 *  - MUCRoomEntities `chatRooms` → `chatRoom` {roomName, naturalName, description, subject, …};
 *  - MUCRoomMessageEntities `messages` → `message` {to, from, type, body, delay_stamp, delay_from}.
 * A JAXB wrapper (`@XmlElementWrapper`) keeps its own name around the list: `"groups": {"group": …}`.
 */

export interface ContactView {
  jid: string;
  nickname: string | null;
  groups: string[];
  subscriptionType: number;
  show: string;
  status: string | null;
}

/** `@XmlElementWrapper(name) @XmlElement(item)`: `{ item: list }`, or nothing for an empty list. */
function wrapper(item: string, values: string[]): Record<string, unknown> | undefined {
  const list = jerseyList(values);
  return list === undefined ? undefined : { [item]: list };
}

/**
 * ChatService.getUserRoster (OpenfireConnection.getRosterEntities): each contact with its live presence;
 * `show` is the presence mode, or the presence type (`unavailable`) for a contact who is offline.
 */
export function rosterShape(contacts: ContactView[]): Record<string, unknown> {
  return wrapList(
    'rosterItem',
    contacts.map((c) =>
      jerseyObject({
        jid: c.jid,
        nickname: c.nickname,
        subscriptionType: c.subscriptionType,
        groups: wrapper('group', c.groups),
        show: c.show === 'offline' ? 'unavailable' : c.show,
        status: c.status,
      }),
    ),
  );
}

export interface UserView {
  username: string;
  name: string | null;
  email: string | null;
}

/** ChatService.getUser (UserServiceController.getUsersBySearch): the password is never written. */
export function usersShape(users: UserView[]): Record<string, unknown> {
  return wrapList(
    'user',
    users.map((u) => jerseyObject({ username: u.username, name: u.name, email: u.email })),
  );
}

export interface RoomListView {
  room: string;
  name: string | null;
}

/** ChatService.getMUCRooms: what disco#items tells of each room, its name and its natural name. */
export function roomsShape(rooms: RoomListView[]): Record<string, unknown> {
  return wrapList(
    'chatRoom',
    rooms.map((r) => jerseyObject({ roomName: r.room, naturalName: r.name ?? r.room })),
  );
}

export interface RoomInfoView {
  room: string;
  name?: string | null;
  description?: string | null;
  subject?: string | null;
  public: boolean;
  persistent: boolean;
  membersOnly: boolean;
  moderated: boolean;
  anonymous: 'semi' | 'non' | 'fully';
  archived: boolean;
}

/**
 * ChatService.getMUCRoomJSON2: one MUCRoomEntity, from the room's disco#info (muc#roominfo). What the
 * room does not publish (password, dates, maxUsers, affiliation lists) is left out, as a null is.
 */
export function roomShape(info: RoomInfoView): Record<string, unknown> {
  return jerseyObject({
    roomName: info.room,
    naturalName: info.name ?? info.room,
    description: info.description,
    subject: info.subject,
    persistent: info.persistent,
    publicRoom: info.public,
    canAnyoneDiscoverJID: info.anonymous === 'non',
    logEnabled: info.archived,
    membersOnly: info.membersOnly,
    moderated: info.moderated,
  });
}

export interface RoomMessageView {
  room: string;
  nick: string | null;
  from: string | null;
  body: string | null;
  subject?: string;
  timestamp: string;
}

/**
 * ChatService.getMUCRoomHistory (MUCRoomController.getRoomHistory): the room's history as the room sends
 * it to a joining occupant, `from` the occupant's `room@service/nick`, with its XEP-0203 delay.
 */
export function roomHistoryShape(room: string, messages: RoomMessageView[]): Record<string, unknown> {
  return wrapList(
    'message',
    messages.map((m) =>
      jerseyObject({
        to: room,
        from: m.nick ? `${room}/${m.nick}` : (m.from ?? room),
        type: 'groupchat',
        body: m.body ?? undefined,
        delay_stamp: m.timestamp,
        delay_from: room,
      }),
    ),
  );
}
