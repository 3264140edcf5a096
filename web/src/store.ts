import { storage } from './storage';
import {
  EventStream, ParleyApi, bare, localpart,
  type AgentQueue, type Contact, type Credentials, type HistoryItem, type JoinedRoom, type RoomHistoryItem, type RoomListItem, type StreamEvent, type StreamStatus,
} from './api';

export type TickStatus = 'sending' | 'sent' | 'delivered' | 'displayed' | 'failed';
export interface Msg { key: string; id?: string; stanzaId?: string | null; dir: 'in' | 'out'; body: string; ts: string; status: TickStatus; nick?: string | null }
export interface Thread { messages: Msg[]; loaded: boolean; loading: boolean; hasMore: boolean; before: string | null }
export interface Conversation extends Thread { peer: string; unread: number; typing: boolean }
export interface Room extends Thread { jid: string; name: string; nick: string; subject: string | null; occupants: Map<string, string> }
export interface Invitation { room: string; inviter: string; reason: string | null }
export interface Offer { offerId: string; workgroup: string; workgroupName: string; visitor: string; question: string }
export interface IncomingCall { callId: string; peer: string; audioOnly: boolean; roomName: string | null }
export type View = { kind: 'chat'; id: string } | { kind: 'room'; id: string } | null;

const SHOW_RANK: Record<string, number> = { chat: 5, available: 5, away: 3, xa: 2, dnd: 4, offline: 0 };

let seq = 0;
const tempKey = (): string => `tmp-${++seq}`;
const byId = (a: Msg, b: Msg): number => {
  if (a.id && b.id) return Number(a.id) - Number(b.id);
  if (!a.id && !b.id) return 0;
  return a.id ? -1 : 1; // unsent messages stay last
};

function newThread(): Thread { return { messages: [], loaded: false, loading: false, hasMore: true, before: null }; }

/** Everything the UI shows, fed by REST answers and the event stream; views re-render on `emit`. */
export class ChatStore {
  readonly api: ParleyApi;
  me = { jid: '', username: '' };
  status: StreamStatus = 'connecting';
  ended: string | null = null;
  error: string | null = null;
  contacts = new Map<string, Contact>();
  presence = new Map<string, Map<string, string>>();
  conversations = new Map<string, Conversation>();
  rooms = new Map<string, Room>();
  publicRooms: RoomListItem[] = [];
  requests: string[] = [];
  blocked = new Set<string>();
  invitations: Invitation[] = [];
  /** calls ringing for this user (XEP-0353 proposals), shown as a banner until answered or over */
  calls: IncomingCall[] = [];
  /** agent console: the workgroups this user belongs to, and offers waiting for an answer */
  workgroups: AgentQueue[] = [];
  offers: Offer[] = [];
  private assisting = new Set<string>(); // workgroup names whose offer this user accepted: join their room invitation
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

  constructor(creds: Credentials) { this.api = new ParleyApi(creds); }

  listen(fn: () => void): () => void { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  emit(): void {
    for (const fn of this.listeners) fn();
    this.onUnread(this.unreadTotal());
  }

  unreadTotal(): number { let n = 0; for (const c of this.conversations.values()) n += c.unread; return n; }

  async start(): Promise<void> {
    const info = await this.api.session();
    this.me = { jid: info.jid, username: localpart(info.jid) };
    this.stream = new EventStream(this.api, (e) => this.onEvent(e), (s) => this.onStatus(s), () => this.sessionEnded('the session ended'));
    this.stream.open();
    await Promise.all([this.refreshContacts(), this.refreshUnread(), this.refreshRooms(), this.refreshRequests(), this.refreshBlocked(), this.refreshQueues()]);
    this.emit();
  }

  stop(): void { this.stream?.close(); }

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

  async refreshContacts(): Promise<void> {
    const { contacts } = await this.api.contacts();
    this.contacts = new Map(contacts.map((c) => [c.jid, c]));
    for (const c of contacts) this.conv(c.jid);
  }

  async refreshUnread(): Promise<void> {
    const u = await this.api.unread();
    for (const c of this.conversations.values()) c.unread = 0;
    for (const { jid, count } of u.contacts) this.conv(jid).unread = count;
    if (this.view?.kind === 'chat' && this.visible) void this.markRead(this.view.id);
  }

  async refreshQueues(): Promise<void> {
    const { queues } = await this.api.assistQueues().catch(() => ({ queues: [] as AgentQueue[] }));
    this.workgroups = queues;
    this.emit();
  }

  async setDuty(workgroup: string, on: boolean): Promise<void> {
    try { if (on) await this.api.goOnDuty(workgroup); else await this.api.goOffDuty(workgroup); } catch (err) { this.error = (err as Error).message; }
    await this.refreshQueues();
  }

  async answerOffer(offer: Offer, accept: boolean): Promise<void> {
    this.offers = this.offers.filter((o) => o.offerId !== offer.offerId);
    if (accept) this.assisting.add(offer.workgroupName);
    this.emit();
    try { if (accept) await this.api.acceptOffer(offer.offerId); else await this.api.rejectOffer(offer.offerId); } catch (err) {
      this.assisting.delete(offer.workgroupName);
      this.error = `could not ${accept ? 'accept' : 'reject'} the offer: ${(err as Error).message}`;
      this.emit();
    }
  }

  async refreshBlocked(): Promise<void> {
    const { blocked } = await this.api.blocked().catch(() => ({ blocked: [] as string[] }));
    this.blocked = new Set(blocked);
  }

  isFavorite(jid: string): boolean { return this.contacts.get(jid)?.groups.includes('Favorites') ?? false; }

  /** Favorites are the roster group `Favorites` (the contact list's documented convention). */
  async toggleFavorite(jid: string): Promise<void> {
    const c = this.contacts.get(jid);
    if (!c) return;
    const groups = this.isFavorite(jid) ? c.groups.filter((g) => g !== 'Favorites') : [...c.groups, 'Favorites'];
    try { this.contacts.set(jid, { ...c, ...(await this.api.setGroups(jid, groups)) }); } catch (err) { this.error = (err as Error).message; }
    this.emit();
  }

  async setBlocked(jid: string, block: boolean): Promise<void> {
    try {
      if (block) { await this.api.block(jid); this.blocked.add(jid); } else { await this.api.unblock(jid); this.blocked.delete(jid); }
    } catch (err) { this.error = (err as Error).message; }
    this.emit();
  }

  async refreshRequests(): Promise<void> {
    const { requests } = await this.api.subscriptions();
    this.requests = requests.map((r) => r.jid);
  }

  async refreshRooms(): Promise<void> {
    const [joined, listed] = await Promise.all([this.api.joinedRooms(), this.api.rooms().catch(() => ({ rooms: [] as RoomListItem[] }))]);
    for (const r of joined.rooms) this.applyJoined(r);
    this.publicRooms = listed.rooms;
  }

  conv(peer: string): Conversation {
    const key = bare(peer);
    let c = this.conversations.get(key);
    if (!c) { c = { ...newThread(), peer: key, unread: 0, typing: false }; this.conversations.set(key, c); }
    return c;
  }

  private room(jid: string): Room {
    const key = bare(jid);
    let r = this.rooms.get(key);
    if (!r) { r = { ...newThread(), jid: key, name: localpart(key), nick: this.me.username, subject: null, occupants: new Map() }; this.rooms.set(key, r); }
    return r;
  }

  private applyJoined(j: JoinedRoom): Room {
    const r = this.room(j.room);
    r.nick = j.nick;
    r.subject = j.subject;
    r.occupants = new Map(j.occupants.map((o) => [o.nick, o.role]));
    return r;
  }

  displayName(jid: string): string {
    const c = this.contacts.get(bare(jid));
    return c?.nickname || localpart(jid);
  }

  show(jid: string): string {
    const res = this.presence.get(bare(jid));
    let best = 'offline';
    if (res) for (const s of res.values()) if ((SHOW_RANK[s] ?? 1) > (SHOW_RANK[best] ?? 0)) best = s;
    if (!res || res.size === 0) return this.contacts.get(bare(jid))?.show ?? 'offline';
    return best;
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
        this.merge(t, page.messages.map((m) => this.fromRoomHistory(m)));
        t.hasMore = page.page.hasMore;
        if (page.page.before) t.before = page.page.before;
      } else {
        const page = await this.api.history(this.me.username, id, t.before ?? undefined);
        this.merge(t, page.messages.map((m) => this.fromHistory(m)));
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

  private fromHistory(m: HistoryItem): Msg {
    const status: TickStatus = m.displayed ? 'displayed' : m.delivered ? 'delivered' : 'sent';
    return { key: `id-${m.id}`, id: m.id, stanzaId: m.stanzaId, dir: m.direction, body: m.body ?? '', ts: m.timestamp, status };
  }

  private fromRoomHistory(m: RoomHistoryItem): Msg {
    return { key: `id-${m.id}`, id: m.id, dir: m.direction ?? 'in', body: m.body ?? '', ts: m.timestamp, status: 'sent', nick: m.nick };
  }

  private merge(t: Thread, msgs: Msg[]): void {
    const have = new Set(t.messages.map((m) => m.id).filter(Boolean));
    const add = msgs.filter((m) => !m.id || !have.has(m.id));
    if (add.length === 0) return;
    t.messages = [...t.messages, ...add].sort(byId);
  }

  // ---- actions ----------------------------------------------------------------------------------------

  async markRead(peer: string): Promise<void> {
    const c = this.conv(peer);
    const lastIn = [...c.messages].reverse().find((m) => m.dir === 'in' && m.id);
    if (!lastIn || (c.unread === 0 && lastIn.status === 'displayed')) { c.unread = 0; return; }
    c.unread = 0;
    for (const m of c.messages) if (m.dir === 'in') m.status = 'displayed';
    this.emit();
    try { await this.api.markDisplayed(peer, lastIn.id!); } catch { /* a later view retries */ }
  }

  async send(peer: string, text: string): Promise<void> {
    const c = this.conv(peer);
    const m: Msg = { key: tempKey(), dir: 'out', body: text, ts: new Date().toISOString(), status: 'sending' };
    c.messages = [...c.messages, m];
    this.emit();
    try {
      const sent = await this.api.send(peer, text);
      const echoed = c.messages.find((x) => x.id === sent.id && x !== m);
      if (echoed) c.messages = c.messages.filter((x) => x !== m);
      else { m.id = sent.id; m.stanzaId = sent.stanzaId; m.key = `id-${sent.id}`; if (m.status === 'sending') m.status = 'sent'; }
      c.messages.sort(byId);
    } catch (err) {
      m.status = 'failed';
      this.error = `not sent: ${(err as Error).message}`;
    }
    this.emit();
  }

  async postToRoom(jid: string, text: string): Promise<void> {
    const r = this.room(jid);
    const m: Msg = { key: tempKey(), dir: 'out', body: text, ts: new Date().toISOString(), status: 'sending', nick: r.nick };
    r.messages = [...r.messages, m];
    this.emit();
    try {
      const posted = await this.api.postToRoom(jid, text);
      const echoed = posted.id ? r.messages.find((x) => x.id === posted.id && x !== m) : undefined;
      if (echoed) r.messages = r.messages.filter((x) => x !== m);
      else if (posted.id) { m.id = posted.id; m.key = `id-${posted.id}`; m.status = 'sent'; } else m.status = 'sent';
      r.messages.sort(byId);
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
      void this.api.rooms().then((l) => { this.publicRooms = l.rooms; this.emit(); }).catch(() => undefined);
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

  async addContact(jid: string): Promise<void> {
    try {
      const c = await this.api.addContact(jid);
      this.contacts.set(c.jid, c);
    } catch (err) { this.error = (err as Error).message; }
    this.emit();
  }

  async approve(jid: string): Promise<void> {
    try { await this.api.approve(jid); } catch (err) { this.error = (err as Error).message; }
    this.requests = this.requests.filter((r) => r !== jid);
    this.conv(jid);
    this.emit();
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    storage.set('parley.muted', muted ? '1' : '0', 'local');
    this.emit();
  }

  /** Requests still waiting for an answer (a contact who already sees our presence needs none). */
  pendingRequests(): string[] {
    return this.requests.filter((jid) => { const s = this.contacts.get(jid)?.subscription; return s !== 'from' && s !== 'both'; });
  }

  networkChanged(online: boolean): void {
    if (online) this.stream?.resume(); else this.stream?.suspend();
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
      case 'chatapi.chat': this.onChat(d); break;
      case 'chatapi.receipt': this.onReceipt(d); break;
      case 'chatapi.presence': this.onPresence(d); break;
      case 'chatapi.muc': this.onMuc(d); break;
      case 'chatapi.call': this.onCall(d); break;
      case 'chatapi.assist': this.onAssist(d); break;
      default: return;
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
    if (typeof d.body !== 'string' || typeof d.id !== 'string') return;
    if (dir === 'in') this.setTyping(c, false);
    if (c.messages.some((m) => m.id === d.id)) return;
    const msg: Msg = { key: `id-${d.id}`, id: d.id, stanzaId: (d.stanzaId as string | null) ?? null, dir, body: d.body, ts: String(d.timestamp ?? new Date().toISOString()), status: dir === 'out' ? 'sent' : 'delivered' };
    if (dir === 'out') {
      const pending = c.messages.find((m) => !m.id && m.status === 'sending' && m.body === d.body);
      if (pending) { Object.assign(pending, { id: msg.id, key: msg.key, stanzaId: msg.stanzaId, status: 'sent' }); c.messages.sort(byId); return; }
    }
    if (c.loaded || c.messages.length > 0 || dir === 'out') c.messages = [...c.messages, msg].sort(byId);
    else c.messages = [msg]; // history not loaded yet: it is merged when the dialogue opens
    if (dir === 'in') {
      if (this.view?.kind === 'chat' && this.view.id === peer && this.visible) void this.markRead(peer);
      else { c.unread++; this.onIncoming(); }
    }
  }

  private setTyping(c: Conversation, typing: boolean): void {
    c.typing = typing;
    clearTimeout(this.typingTimers.get(c.peer));
    if (typing) this.typingTimers.set(c.peer, setTimeout(() => { c.typing = false; this.emit(); }, 30000));
  }

  private onReceipt(d: Record<string, unknown>): void {
    if (d.type === 'read') { if (typeof d.peer === 'string') this.conv(d.peer).unread = 0; return; }
    if (d.type !== 'receipt' || typeof d.messageId !== 'string') return;
    const c = typeof d.from === 'string' ? this.conversations.get(bare(d.from)) : undefined;
    const convs = c ? [c] : [...this.conversations.values()];
    for (const conv of convs) {
      const target = conv.messages.find((m) => m.id === d.messageId);
      if (!target) continue;
      if (d.status === 'displayed') {
        // A read marker covers the message and everything sent before it.
        for (const m of conv.messages) if (m.dir === 'out' && m.id && Number(m.id) <= Number(target.id)) m.status = 'displayed';
      } else if (target.status !== 'displayed') target.status = 'delivered';
      return;
    }
  }

  private onPresence(d: Record<string, unknown>): void {
    const type = String(d.type);
    if (typeof d.room === 'string') {
      const r = this.rooms.get(bare(d.room));
      if (r && typeof d.nick === 'string') {
        if (type === 'unavailable') r.occupants.delete(d.nick); else r.occupants.set(d.nick, String(d.role ?? 'participant'));
      }
      return;
    }
    const from = typeof d.from === 'string' ? d.from : '';
    if (type === 'available' || type === 'unavailable') {
      const b = bare(from);
      const resource = from.slice(b.length + 1);
      let res = this.presence.get(b);
      if (!res) { res = new Map(); this.presence.set(b, res); }
      if (type === 'available') res.set(resource, String(d.show ?? 'available')); else if (resource) res.delete(resource); else res.clear();
      const c = this.contacts.get(b);
      if (c) { c.show = this.show(b); c.status = (d.status as string | null) ?? null; }
    } else if (type === 'subscribe') {
      if (!this.requests.includes(bare(from))) this.requests = [...this.requests, bare(from)];
    } else if ((type === 'blocked' || type === 'unblocked') && Array.isArray(d.jids)) {
      if (type === 'unblocked' && d.jids.length === 0) this.blocked.clear();
      for (const j of d.jids as string[]) if (type === 'blocked') this.blocked.add(j); else this.blocked.delete(j);
    } else if (type === 'roster' && d.item && typeof d.item === 'object') {
      const item = d.item as Contact;
      if (item.subscription === 'remove') this.contacts.delete(item.jid);
      else { this.contacts.set(item.jid, { ...this.contacts.get(item.jid), ...item }); this.conv(item.jid); }
    }
  }

  private onAssist(d: Record<string, unknown>): void {
    const offerId = String(d.offerId ?? '');
    if (d.type === 'offerReceived') {
      if (this.offers.some((o) => o.offerId === offerId)) return;
      const meta = (d.metaData ?? {}) as Record<string, string>;
      const wg = String(d.workgroup ?? '');
      this.offers = [...this.offers, { offerId, workgroup: wg, workgroupName: localpart(wg), visitor: meta.username ?? localpart(String(d.from)), question: meta.question ?? '' }];
      this.onIncoming();
    } else if (d.type === 'offerRevoked') {
      this.offers = this.offers.filter((o) => o.offerId !== offerId);
    }
  }

  private onCall(d: Record<string, unknown>): void {
    const callId = String(d.callId);
    if (d.type === 'requested' && d.direction === 'in') {
      if (this.calls.some((c) => c.callId === callId)) return;
      const options = (d.options ?? {}) as { audioOnly?: boolean; roomName?: string };
      this.calls = [...this.calls, { callId, peer: bare(String(d.peer ?? d.from)), audioOnly: options.audioOnly === true, roomName: options.roomName ?? null }];
      this.onIncoming();
    } else if (d.type === 'accepted' || d.type === 'declined' || d.type === 'ended') {
      this.calls = this.calls.filter((c) => c.callId !== callId);
    }
  }

  async answerCall(call: IncomingCall, accept: boolean): Promise<void> {
    this.calls = this.calls.filter((c) => c.callId !== call.callId);
    this.emit();
    try {
      if (accept) { await this.api.acceptCall(call.callId); this.onCallAccepted(call); } else await this.api.declineCall(call.callId);
    } catch (err) {
      this.error = `could not ${accept ? 'accept' : 'decline'} the call: ${(err as Error).message}`;
      this.emit();
    }
  }

  private onMuc(d: Record<string, unknown>): void {
    const type = String(d.type);
    const jid = bare(String(d.room));
    if (type === 'invitationReceived' && [...this.assisting].some((w) => localpart(jid).startsWith(`${w}-`))) {
      // The room of an offer this agent accepted: go straight in.
      for (const w of this.assisting) if (localpart(jid).startsWith(`${w}-`)) this.assisting.delete(w);
      void this.joinRoom(jid);
      return;
    }
    if (type === 'invitationReceived') {
      if (!this.rooms.has(jid) && !this.invitations.some((i) => i.room === jid)) {
        this.invitations = [...this.invitations, { room: jid, inviter: String(d.inviter ?? ''), reason: (d.reason as string | null) ?? null }];
      }
      return;
    }
    if (type === 'left') { this.rooms.delete(jid); if (this.view?.id === jid) this.view = null; return; }
    if (type === 'subject') { const r = this.rooms.get(jid); if (r) r.subject = (d.subject as string) ?? null; return; }
    if (type !== 'groupchat' || typeof d.body !== 'string' || typeof d.id !== 'string') return;
    const r = this.room(jid);
    if (r.messages.some((m) => m.id === d.id)) return;
    const dir: Msg['dir'] = d.direction === 'out' ? 'out' : 'in';
    if (dir === 'out') {
      const pending = r.messages.find((m) => !m.id && m.status === 'sending' && m.body === d.body);
      if (pending) { Object.assign(pending, { id: d.id, key: `id-${d.id}`, status: 'sent' }); r.messages.sort(byId); return; }
    }
    r.messages = [...r.messages, { key: `id-${d.id}`, id: d.id, dir, body: d.body, ts: String(d.timestamp ?? ''), status: 'sent', nick: (d.nick as string | null) ?? null } satisfies Msg].sort(byId);
    if (dir === 'in' && !d.delayed && !(this.view?.kind === 'room' && this.view.id === jid)) this.onIncoming();
  }

  // ---- lists ------------------------------------------------------------------------------------------

  /** Dialogues for the list: contacts and anyone who wrote, unread first, then by name. */
  dialogues(filter: string, list: 'all' | 'favorites' | 'blocked' = 'all'): Conversation[] {
    const f = filter.trim().toLowerCase();
    if (list === 'blocked') for (const j of this.blocked) this.conv(j);
    return [...this.conversations.values()]
      .filter((c) => c.peer !== bare(this.me.jid))
      .filter((c) => (list === 'blocked' ? this.blocked.has(c.peer) : !this.blocked.has(c.peer) && (list === 'all' || this.isFavorite(c.peer))))
      .filter((c) => !f || c.peer.toLowerCase().includes(f) || this.displayName(c.peer).toLowerCase().includes(f))
      .sort((a, b) => (b.unread > 0 ? 1 : 0) - (a.unread > 0 ? 1 : 0) || this.displayName(a.peer).localeCompare(this.displayName(b.peer)));
  }
}
