import { storage } from './storage';
import {
  EventStream,
  ParleyApi,
  bare,
  localpart,
  type Credentials,
  type JoinedRoom,
  type RoomListItem,
  type StreamEvent,
  type StreamStatus,
} from './api';
import { Alerts, type IncomingCall } from './alerts';
import { Calls } from './calls';
import { Groups } from './groups';
import { FileLoader } from './attachments';
import {
  adoptEcho,
  byId,
  fromEvent,
  fromHistory,
  fromRoomHistory,
  mergeInto,
  newThread,
  outgoing,
  settle,
  type Msg,
  type Thread,
} from './messages';
import { Roster } from './roster';
import { Uploads, asAttachment } from './uploads';

export type { Msg, Thread, TickStatus } from './messages';
export type { IncomingCall, Offer } from './alerts';
export interface Conversation extends Thread {
  peer: string;
  unread: number;
  typing: boolean;
}
export interface Room extends Thread {
  jid: string;
  name: string;
  nick: string;
  subject: string | null;
  occupants: Map<string, string>;
}
export interface Invitation {
  room: string;
  inviter: string;
  reason: string | null;
}
export type View = { kind: 'chat'; id: string } | { kind: 'room'; id: string } | null;

/** The composer key of a dialogue or a room, under which picked files wait (Uploads). */
export const threadKey = (view: NonNullable<View>): string => `${view.kind}:${view.id}`;

/** Everything the UI shows, fed by REST answers and the event stream; views re-render on `emit`. */
export class ChatStore {
  readonly api: ParleyApi;
  me = { jid: '', username: '' };
  status: StreamStatus = 'connecting';
  ended: string | null = null;
  error: string | null = null;
  conversations = new Map<string, Conversation>();
  rooms = new Map<string, Room>();
  publicRooms: RoomListItem[] = [];
  invitations: Invitation[] = [];
  view: View = null;
  muted = storage.get('parley.muted', 'local') === '1';
  visible = document.visibilityState !== 'hidden';
  private stream: EventStream | undefined;
  private listeners = new Set<() => void>();
  private typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  onUnread: (total: number) => void = () => undefined;
  onIncoming: () => void = () => undefined;
  /** the session is over (logoff, idle, gateway restarted without it): the embedding site must log in again */
  onEnded: (reason: string) => void = () => undefined;
  /** a call the user accepted here: the embedding site starts the media (Parley only signals) */
  onCallAccepted: (call: IncomingCall) => void = () => undefined;

  /** this gateway's files, fetched with the session token (previews, opening, saving) */
  readonly files: FileLoader;
  /** files picked in the composers, uploaded at once and sent with the next message */
  readonly uploads: Uploads;
  /** calls and expert-queue offers ringing, and the agent console's workgroups */
  readonly alerts: Alerts;
  /** contacts, presence, contact requests, the block list */
  readonly roster: Roster;
  /** calls started or answered here, and the auto-answer countdowns */
  readonly calls: Calls;
  /** the user's organisations and their members' presence (chatapi.group) */
  readonly groups = new Groups(() => this.me.username);

  constructor(creds: Credentials) {
    this.api = new ParleyApi(creds);
    this.files = new FileLoader(this.api);
    this.uploads = new Uploads(this.api, () => this.emit());
    const fail = (message: string) => {
      this.error = message;
      this.emit();
    };
    this.roster = new Roster({
      api: this.api,
      changed: () => this.emit(),
      fail,
      known: (jid) => this.conv(jid),
    });
    this.alerts = new Alerts({
      api: this.api,
      changed: () => this.emit(),
      ring: () => this.onIncoming(),
      fail,
      callAccepted: (call) => {
        this.calls.answered(call.callId, call.peer, call.audioOnly);
        this.onCallAccepted(call);
      },
    });
    this.calls = new Calls({
      api: this.api,
      changed: () => this.emit(),
      fail,
      accept: (callId) => {
        const call = this.alerts.calls.find((c) => c.callId === callId);
        if (call) void this.alerts.answerCall(call, true);
      },
      trusted: (jid) => this.roster.contacts.has(jid) || this.groups.isStaff(jid),
    });
  }

  /** A member's name in an organisation, else the contact's name. */
  displayName(jid: string): string {
    for (const g of this.groups.groups.values())
      for (const m of g.values()) if (m.jid === jid && m.name) return m.name;
    return this.roster.displayName(jid);
  }

  listen(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  emit(): void {
    for (const fn of this.listeners) fn();
    this.onUnread(this.unreadTotal());
  }

  unreadTotal(): number {
    let n = 0;
    for (const c of this.conversations.values()) n += c.unread;
    return n;
  }

  async start(): Promise<void> {
    const info = await this.api.session();
    this.me = { jid: info.jid, username: localpart(info.jid) };
    this.stream = new EventStream(
      this.api,
      (e) => this.onEvent(e),
      (s) => this.onStatus(s),
      () => this.sessionEnded('the session ended'),
    );
    this.stream.open();
    await Promise.all([
      this.roster.refresh(),
      this.refreshUnread(),
      this.refreshRooms(),
      this.alerts.refreshQueues(),
    ]);
    this.emit();
  }

  stop(): void {
    this.stream?.close();
  }

  private sessionEnded(reason: string): void {
    this.stop();
    this.ended = reason;
    this.status = 'offline';
    this.onEnded(reason);
    this.emit();
  }

  private onStatus(s: StreamStatus): void {
    const was = this.status;
    this.status = s;
    // After a gap, counts may have moved in another tab: re-read them (replay already brought the messages).
    if (s === 'online' && was === 'reconnecting') void this.refreshUnread().then(() => this.emit());
    this.emit();
  }

  async refreshUnread(): Promise<void> {
    const u = await this.api.unread();
    for (const c of this.conversations.values()) c.unread = 0;
    for (const { jid, count } of u.contacts) this.conv(jid).unread = count;
    if (this.view?.kind === 'chat' && this.visible) void this.markRead(this.view.id);
  }

  async refreshRooms(): Promise<void> {
    const [joined, listed] = await Promise.all([
      this.api.joinedRooms(),
      this.api.rooms().catch(() => ({ rooms: [] as RoomListItem[] })),
    ]);
    for (const r of joined.rooms) this.applyJoined(r);
    this.publicRooms = listed.rooms;
  }

  conv(peer: string): Conversation {
    const key = bare(peer);
    let c = this.conversations.get(key);
    if (!c) {
      c = { ...newThread(), peer: key, unread: 0, typing: false };
      this.conversations.set(key, c);
    }
    return c;
  }

  private room(jid: string): Room {
    const key = bare(jid);
    let r = this.rooms.get(key);
    if (!r) {
      r = {
        ...newThread(),
        jid: key,
        name: localpart(key),
        nick: this.me.username,
        subject: null,
        occupants: new Map(),
      };
      this.rooms.set(key, r);
    }
    return r;
  }

  private applyJoined(j: JoinedRoom): Room {
    const r = this.room(j.room);
    r.nick = j.nick;
    r.subject = j.subject;
    r.occupants = new Map(j.occupants.map((o) => [o.nick, o.role]));
    return r;
  }

  // ---- navigation -------------------------------------------------------------------------------------

  open(view: View): void {
    this.view = view;
    if (view?.kind === 'chat') {
      const c = this.conv(view.id);
      if (!c.loaded) void this.loadOlder(c, view.id);
      else void this.markRead(view.id);
    } else if (view?.kind === 'room') {
      const r = this.room(view.id);
      if (!r.loaded) void this.loadOlder(r, view.id);
    }
    this.emit();
  }

  async loadOlder(t: Thread, id: string): Promise<void> {
    if (t.loading || (t.loaded && !t.hasMore)) return;
    t.loading = true;
    this.emit();
    try {
      const isRoom = 'jid' in t && this.rooms.get(id) === t;
      if (isRoom) {
        const page = await this.api.roomHistory(id, t.before ?? undefined);
        mergeInto(t, page.messages.map(fromRoomHistory));
        t.hasMore = page.page.hasMore;
        if (page.page.before) t.before = page.page.before;
      } else {
        const page = await this.api.history(this.me.username, id, t.before ?? undefined);
        mergeInto(t, page.messages.map(fromHistory));
        t.hasMore = page.page.hasMore;
        if (page.page.before) t.before = page.page.before;
      }
      t.loaded = true;
    } catch (err) {
      this.error = `could not load history: ${(err as Error).message}`;
    } finally {
      t.loading = false;
    }
    if (this.view?.kind === 'chat' && this.view.id === id) void this.markRead(id);
    this.emit();
  }

  // ---- actions ----------------------------------------------------------------------------------------

  async markRead(peer: string): Promise<void> {
    const c = this.conv(peer);
    const lastIn = [...c.messages].reverse().find((m) => m.dir === 'in' && m.id);
    if (!lastIn || (c.unread === 0 && lastIn.status === 'displayed')) {
      c.unread = 0;
      return;
    }
    c.unread = 0;
    for (const m of c.messages) if (m.dir === 'in') m.status = 'displayed';
    this.emit();
    try {
      await this.api.markDisplayed(peer, lastIn.id!);
    } catch {
      /* a later view retries */
    }
  }

  /** Sends the text with the files stored from the dialogue's composer (either may be empty, not both). */
  send(peer: string, text: string): Promise<void> {
    const files = this.uploads.take(threadKey({ kind: 'chat', id: peer }));
    return this.deliver(this.conv(peer), outgoing(text, files.map(asAttachment)), () =>
      this.api.send(
        peer,
        text,
        files.map((f) => f.id),
      ),
    );
  }

  postToRoom(jid: string, text: string): Promise<void> {
    const files = this.uploads.take(threadKey({ kind: 'room', id: jid }));
    const r = this.room(jid);
    return this.deliver(r, outgoing(text, files.map(asAttachment), r.nick), async () => ({
      id: (
        await this.api.postToRoom(
          jid,
          text,
          files.map((f) => f.id),
        )
      ).id,
    }));
  }

  /** Shows the message at once, then gives it the stored id the server answers (or marks it failed). */
  private async deliver(
    t: Thread,
    m: Msg,
    post: () => Promise<{ id?: string; stanzaId?: string }>,
  ): Promise<void> {
    if (!m.body && !m.attachments.length) return;
    t.messages = [...t.messages, m];
    this.emit();
    try {
      settle(t, m, await post());
    } catch (err) {
      m.status = 'failed';
      this.error = `not sent: ${(err as Error).message}`;
    }
    this.emit();
  }

  async joinRoom(name: string): Promise<void> {
    try {
      const j = await this.api.joinRoom(name);
      const r = this.applyJoined(j);
      this.invitations = this.invitations.filter((i) => bare(i.room) !== r.jid);
      this.open({ kind: 'room', id: r.jid });
      void this.api
        .rooms()
        .then((l) => {
          this.publicRooms = l.rooms;
          this.emit();
        })
        .catch(() => undefined);
    } catch (err) {
      this.error = `could not join ${name}: ${(err as Error).message}`;
      this.emit();
    }
  }

  async leaveRoom(jid: string): Promise<void> {
    await this.api.leaveRoom(jid).catch(() => undefined);
    this.rooms.delete(jid);
    if (this.view?.id === jid) this.view = null;
    this.emit();
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    storage.set('parley.muted', muted ? '1' : '0', 'local');
    this.emit();
  }

  networkChanged(online: boolean): void {
    if (online) this.stream?.resume();
    else this.stream?.suspend();
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible && this.view?.kind === 'chat') void this.markRead(this.view.id);
  }

  // ---- events -----------------------------------------------------------------------------------------

  private onEvent(e: StreamEvent): void {
    const d = e.data;
    switch (e.name) {
      case 'chatapi.session': {
        const type = String(d.type);
        if (type === 'offline') this.sessionEnded(String(d.reason ?? 'offline'));
        break;
      }
      case 'chatapi.chat':
        this.onChat(d);
        break;
      case 'chatapi.receipt':
        this.onReceipt(d);
        break;
      case 'chatapi.presence':
        if (typeof d.room === 'string') this.onOccupant(d);
        else this.roster.onPresence(d);
        break;
      case 'chatapi.muc':
        this.onMuc(d);
        break;
      case 'chatapi.call':
        this.alerts.onCall(d);
        this.calls.onCall(d);
        break;
      case 'chatapi.group':
        this.groups.onEvent(d);
        break;
      case 'chatapi.assist':
        this.alerts.onAssist(d);
        break;
      default:
        return;
    }
    this.emit();
  }

  private onChat(d: Record<string, unknown>): void {
    const dir: Msg['dir'] = d.direction === 'out' ? 'out' : 'in';
    const peer = bare(String(dir === 'out' ? d.to : d.from));
    const c = this.conv(peer);
    if (typeof d.state === 'string' && typeof d.body !== 'string') {
      if (dir === 'in') this.setTyping(c, d.state === 'composing');
      return;
    }
    const msg = fromEvent(d, 'delivered');
    if (!msg) return;
    if (dir === 'in') this.setTyping(c, false);
    if (c.messages.some((m) => m.id === msg.id)) return;
    if (dir === 'out' && adoptEcho(c, msg)) return;
    if (c.loaded || c.messages.length > 0 || dir === 'out') c.messages = [...c.messages, msg].sort(byId);
    else c.messages = [msg]; // history not loaded yet: it is merged when the dialogue opens
    if (dir === 'in') {
      if (this.view?.kind === 'chat' && this.view.id === peer && this.visible) void this.markRead(peer);
      else {
        c.unread++;
        this.onIncoming();
      }
    }
  }

  private setTyping(c: Conversation, typing: boolean): void {
    c.typing = typing;
    clearTimeout(this.typingTimers.get(c.peer));
    if (typing)
      this.typingTimers.set(
        c.peer,
        setTimeout(() => {
          c.typing = false;
          this.emit();
        }, 30000),
      );
  }

  private onReceipt(d: Record<string, unknown>): void {
    if (d.type === 'read') {
      if (typeof d.peer === 'string') this.conv(d.peer).unread = 0;
      return;
    }
    if (d.type !== 'receipt' || typeof d.messageId !== 'string') return;
    const c = typeof d.from === 'string' ? this.conversations.get(bare(d.from)) : undefined;
    const convs = c ? [c] : [...this.conversations.values()];
    for (const conv of convs) {
      const target = conv.messages.find((m) => m.id === d.messageId);
      if (!target) continue;
      if (d.status === 'displayed') {
        // A read marker covers the message and everything sent before it.
        for (const m of conv.messages)
          if (m.dir === 'out' && m.id && Number(m.id) <= Number(target.id)) m.status = 'displayed';
      } else if (target.status !== 'displayed') target.status = 'delivered';
      return;
    }
  }

  private onOccupant(d: Record<string, unknown>): void {
    const r = this.rooms.get(bare(String(d.room)));
    if (!r || typeof d.nick !== 'string') return;
    if (d.type === 'unavailable') r.occupants.delete(d.nick);
    else r.occupants.set(d.nick, String(d.role ?? 'participant'));
  }

  private onMuc(d: Record<string, unknown>): void {
    const type = String(d.type);
    const jid = bare(String(d.room));
    if (type === 'invitationReceived' && this.alerts.claims(jid)) {
      void this.joinRoom(jid);
      return;
    }
    if (type === 'invitationReceived') {
      if (!this.rooms.has(jid) && !this.invitations.some((i) => i.room === jid)) {
        this.invitations = [
          ...this.invitations,
          { room: jid, inviter: String(d.inviter ?? ''), reason: (d.reason as string | null) ?? null },
        ];
      }
      return;
    }
    if (type === 'left') {
      this.rooms.delete(jid);
      if (this.view?.id === jid) this.view = null;
      return;
    }
    if (type === 'subject') {
      const r = this.rooms.get(jid);
      if (r) r.subject = (d.subject as string) ?? null;
      return;
    }
    const msg = type === 'groupchat' ? fromEvent(d, 'sent') : undefined;
    if (!msg) return;
    const r = this.room(jid);
    if (r.messages.some((m) => m.id === msg.id)) return;
    if (msg.dir === 'out' && adoptEcho(r, msg)) return;
    r.messages = [...r.messages, { ...msg, nick: msg.nick ?? null }].sort(byId);
    if (msg.dir === 'in' && !d.delayed && !(this.view?.kind === 'room' && this.view.id === jid))
      this.onIncoming();
  }

  // ---- lists ------------------------------------------------------------------------------------------

  /** Dialogues for the list: contacts and anyone who wrote, unread first, then by name. */
  dialogues(filter: string, list: 'all' | 'favorites' | 'blocked' = 'all'): Conversation[] {
    const f = filter.trim().toLowerCase();
    const { blocked } = this.roster;
    const name = (jid: string) => this.roster.displayName(jid);
    if (list === 'blocked') for (const j of blocked) this.conv(j);
    return [...this.conversations.values()]
      .filter((c) => c.peer !== bare(this.me.jid))
      .filter((c) =>
        list === 'blocked'
          ? blocked.has(c.peer)
          : !blocked.has(c.peer) && (list === 'all' || this.roster.isFavorite(c.peer)),
      )
      .filter((c) => !f || c.peer.toLowerCase().includes(f) || name(c.peer).toLowerCase().includes(f))
      .sort(
        (a, b) => (b.unread > 0 ? 1 : 0) - (a.unread > 0 ? 1 : 0) || name(a.peer).localeCompare(name(b.peer)),
      );
  }
}
