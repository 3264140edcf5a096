/**
 * Parley's REST + SSE API as the web client uses it: only documented routes (openapi/openapi.yaml),
 * authenticated with the session token the embedding site handed over (never the master secret).
 */

export interface Credentials {
  base: string;
  streamId: string;
  token: string;
}

export interface SessionInfo {
  streamId: string;
  jid: string;
  resource: string;
  state: string;
}
export interface Contact {
  jid: string;
  nickname: string | null;
  groups: string[];
  subscription: string;
  pending: boolean;
  show: string;
  status: string | null;
}
/** A file a message carries (`attachments` of events and of chat and room history; older servers: `data.attachments`). */
export interface Attachment {
  url: string;
  name: string;
  size: number | null;
  type: string;
  thumbnail?: string;
  removed?: true;
}
/** The answer of an upload: name `id` in the next message's `attachments`. */
export interface UploadedFile {
  id: string;
  url: string;
  name: string;
  size: number;
  type: string;
  sha256: string;
  thumbnail?: string;
  created: string;
}
export interface HistoryItem {
  id: string;
  type: string;
  direction: 'in' | 'out';
  from: string;
  to: string;
  body: string | null;
  data?: unknown;
  stanzaId: string | null;
  timestamp: string;
  delivered: boolean;
  displayed: boolean;
  room?: string;
  nick?: string;
  attachments?: Attachment[];
}
export interface HistoryPage {
  messages: HistoryItem[];
  page: { limit: number; hasMore: boolean; before: string | null; after: string | null };
}
export interface RoomHistoryItem {
  id: string;
  room: string;
  nick: string | null;
  from: string;
  body: string | null;
  data?: unknown;
  timestamp: string;
  direction?: 'in' | 'out';
  attachments?: Attachment[];
}
export interface RoomHistoryPage {
  room: string;
  messages: RoomHistoryItem[];
  page: { limit: number; hasMore: boolean; before: string | null; after: string | null };
}
export interface RoomListItem {
  jid: string;
  room: string;
  name: string | null;
}
export interface Occupant {
  nick: string;
  role: string;
  affiliation: string;
  jid?: string;
}
export interface JoinedRoom {
  room: string;
  nick: string;
  status: string;
  subject: string | null;
  occupants: Occupant[];
}
export interface Unread {
  total: number;
  contacts: { jid: string; count: number }[];
}
export interface DirectoryUser {
  username: string;
  jid: string;
  name: string | null;
}
export interface AgentQueue {
  workgroup: string;
  name: string;
  status: string;
  onDuty: boolean;
  maxChats: number;
  currentChats: number;
  users: { userID: string; jid: string; queuePosition: number; question: string }[];
}
export interface SentMessage {
  id: string;
  stanzaId: string;
  to: string;
  timestamp: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** An error answer as ApiError: problem+json's `detail` is the text meant for people (4xx). */
function apiError(status: number, statusText: string, contentType: string | null, text: string): ApiError {
  let p: { code?: string; detail?: string; title?: string } | undefined;
  if (text && /json/.test(contentType ?? '')) {
    try {
      p = JSON.parse(text) as typeof p;
    } catch {
      /* not JSON after all */
    }
  }
  return new ApiError(status, p?.code, p?.detail ?? p?.title ?? (statusText || `HTTP ${status}`));
}

/** A message body: text alone travels as text/plain (ofchat); files need the JSON form with their ids. */
const messageBody = (text: string, fileIds: readonly string[]): { text?: string; json?: unknown } =>
  fileIds.length ? { json: { ...(text ? { body: text } : {}), attachments: fileIds } } : { text };

export class ParleyApi {
  constructor(readonly creds: Credentials) {}

  private url(path: string): string {
    return this.creds.base.replace(/\/$/, '') + path;
  }
  private get sid(): string {
    return encodeURIComponent(this.creds.streamId);
  }

  async call<T>(method: string, path: string, body?: { text?: string; json?: unknown }): Promise<T> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.creds.token}`,
      Accept: 'application/json',
    };
    let payload: string | undefined;
    if (body?.text !== undefined) {
      headers['Content-Type'] = 'text/plain; charset=utf-8';
      payload = body.text;
    }
    if (body?.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body.json);
    }
    const res = await fetch(this.url(path), { method, headers, body: payload });
    const text = await res.text();
    if (!res.ok) throw apiError(res.status, res.statusText, res.headers.get('content-type'), text);
    return (text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text) as T;
  }

  /**
   * Uploads one file as the raw body (`?name=`), with XMLHttpRequest because fetch reports no upload progress.
   * The server detects the type from the content, so the declared one is only a courtesy.
   */
  upload(
    file: Blob,
    name: string,
    onProgress: (fraction: number) => void,
    signal?: AbortSignal,
  ): Promise<UploadedFile> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', this.url(`/restapi/v1/chat/${this.sid}/files?name=${encodeURIComponent(name)}`));
      xhr.setRequestHeader('Authorization', `Bearer ${this.creds.token}`);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
      };
      xhr.onload = () => {
        if (xhr.status === 201) {
          try {
            resolve(JSON.parse(xhr.responseText) as UploadedFile);
            return;
          } catch {
            /* fall through */
          }
        }
        reject(apiError(xhr.status, xhr.statusText, xhr.getResponseHeader('Content-Type'), xhr.responseText));
      };
      xhr.onerror = () => reject(new ApiError(0, undefined, 'the connection failed during the upload'));
      xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'upload cancelled'));
      signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(file);
    });
  }

  /** Whether a file URL is this gateway's: only those get the session token (never another host). */
  ownsUrl(url: string): boolean {
    try {
      return new URL(url).origin === new URL(this.creds.base).origin;
    } catch {
      return false;
    }
  }

  /**
   * A file of this gateway with the session token. Needed because <img> and links cannot send an
   * Authorization header and /files takes no token in the URL (tokens in URLs end up in logs).
   */
  async fetchFile(url: string): Promise<Blob> {
    if (!this.ownsUrl(url)) throw new ApiError(0, undefined, 'not a file of this gateway');
    const res = await fetch(url, { headers: { Authorization: `Bearer ${this.creds.token}` } });
    if (!res.ok)
      throw apiError(res.status, res.statusText, res.headers.get('content-type'), await res.text());
    return res.blob();
  }

  session(): Promise<SessionInfo> {
    return this.call('GET', `/restapi/v1/chat/${this.sid}`);
  }
  contacts(): Promise<{ contacts: Contact[] }> {
    return this.call('GET', `/restapi/v1/chat/${this.sid}/contacts`);
  }
  addContact(jid: string): Promise<Contact> {
    return this.call('POST', `/restapi/v1/chat/${this.sid}/contacts`, { json: { jid } });
  }
  setGroups(jid: string, groups: string[]): Promise<Contact> {
    return this.call('PUT', `/restapi/v1/chat/${this.sid}/contacts/${encodeURIComponent(jid)}`, {
      json: { groups },
    });
  }
  blocked(): Promise<{ blocked: string[] }> {
    return this.call('GET', `/restapi/v1/chat/${this.sid}/blocked`);
  }
  block(jid: string): Promise<void> {
    return this.call('PUT', `/restapi/v1/chat/${this.sid}/blocked/${encodeURIComponent(jid)}`);
  }
  unblock(jid: string): Promise<void> {
    return this.call('DELETE', `/restapi/v1/chat/${this.sid}/blocked/${encodeURIComponent(jid)}`);
  }
  approve(jid: string): Promise<void> {
    return this.call('POST', `/restapi/v1/chat/${this.sid}/contacts/${encodeURIComponent(jid)}/subscription`);
  }
  subscriptions(): Promise<{ requests: { jid: string; nick?: string | null }[] }> {
    return this.call('GET', `/restapi/v1/chat/${this.sid}/subscriptions`);
  }
  unread(): Promise<Unread> {
    return this.call('GET', `/restapi/v1/chat/${this.sid}/unread`);
  }
  searchUsers(search: string): Promise<{ users: DirectoryUser[] }> {
    return this.call('GET', `/restapi/v1/chat/users?limit=20&search=${encodeURIComponent(search)}`);
  }
  history(username: string, peer: string, before?: string, limit = 30): Promise<HistoryPage> {
    const q = new URLSearchParams({ to: peer, limit: String(limit) });
    if (before) q.set('before', before);
    return this.call('GET', `/restapi/v1/chat/${encodeURIComponent(username)}/messages?${q}`);
  }
  send(to: string, text: string, fileIds: readonly string[] = []): Promise<SentMessage> {
    return this.call(
      'POST',
      `/restapi/v1/chat/${this.sid}/messages/${encodeURIComponent(to)}`,
      messageBody(text, fileIds),
    );
  }
  chatState(to: string, state: 'active' | 'composing' | 'paused'): Promise<void> {
    return this.call('POST', `/restapi/v1/chat/${this.sid}/chatstate/${state}/${encodeURIComponent(to)}`);
  }
  markDisplayed(peer: string, id: string): Promise<{ marked: number }> {
    return this.call(
      'POST',
      `/restapi/v1/chat/${this.sid}/messages/${encodeURIComponent(peer)}/${encodeURIComponent(id)}/displayed`,
    );
  }
  acceptCall(callId: string): Promise<unknown> {
    return this.call('POST', `/restapi/v1/chat/${this.sid}/calls/${encodeURIComponent(callId)}/accept`);
  }
  declineCall(callId: string): Promise<unknown> {
    return this.call('POST', `/restapi/v1/chat/${this.sid}/calls/${encodeURIComponent(callId)}/decline`);
  }
  assistQueues(): Promise<{ queues: AgentQueue[] }> {
    return this.call('GET', `/restapi/v1/chat/${this.sid}/assists/queues`);
  }
  goOnDuty(workgroup: string): Promise<unknown> {
    return this.call('POST', `/restapi/v1/chat/${this.sid}/assists/${encodeURIComponent(workgroup)}`, {
      json: {},
    });
  }
  goOffDuty(workgroup: string): Promise<unknown> {
    return this.call('DELETE', `/restapi/v1/chat/${this.sid}/assists/${encodeURIComponent(workgroup)}`);
  }
  acceptOffer(offerId: string): Promise<unknown> {
    return this.call('POST', `/restapi/v1/chat/${this.sid}/offer/${encodeURIComponent(offerId)}`);
  }
  rejectOffer(offerId: string): Promise<unknown> {
    return this.call('DELETE', `/restapi/v1/chat/${this.sid}/offer/${encodeURIComponent(offerId)}`);
  }
  rooms(): Promise<{ rooms: RoomListItem[] }> {
    return this.call('GET', '/restapi/v1/chat/rooms');
  }
  joinedRooms(): Promise<{ rooms: JoinedRoom[] }> {
    return this.call('GET', `/restapi/v1/chat/${this.sid}/rooms`);
  }
  joinRoom(room: string): Promise<JoinedRoom> {
    return this.call('PUT', `/restapi/v1/chat/${this.sid}/rooms/${encodeURIComponent(room)}`);
  }
  leaveRoom(room: string): Promise<void> {
    return this.call('DELETE', `/restapi/v1/chat/${this.sid}/rooms/${encodeURIComponent(room)}`);
  }
  postToRoom(room: string, text: string, fileIds: readonly string[] = []): Promise<{ id?: string }> {
    return this.call(
      'POST',
      `/restapi/v1/chat/${this.sid}/rooms/${encodeURIComponent(room)}`,
      messageBody(text, fileIds),
    );
  }
  roomHistory(room: string, before?: string, limit = 30): Promise<RoomHistoryPage> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (before) q.set('before', before);
    return this.call('GET', `/restapi/v1/chat/rooms/${encodeURIComponent(room)}/chathistory?${q}`);
  }

  /**
   * The event stream URL with a fresh one-time ticket: EventSource cannot set headers, and the session token
   * must not travel in a URL (access logs, history). `lastEventId` resumes.
   */
  async eventsUrl(lastEventId?: string): Promise<string> {
    const { ticket } = await this.call<{ ticket: string }>(
      'POST',
      `/restapi/v1/chat/${this.sid}/events/ticket`,
    );
    const q = new URLSearchParams({ ticket });
    if (lastEventId) q.set('lastEventId', lastEventId);
    return this.url(`/restapi/v1/chat/${this.sid}/events?${q}`);
  }
}

export type StreamStatus = 'connecting' | 'online' | 'reconnecting' | 'offline';
export interface StreamEvent {
  name: string;
  id: string | undefined;
  data: Record<string, unknown>;
}

const EVENT_NAMES = [
  'chatapi.session',
  'chatapi.chat',
  'chatapi.muc',
  'chatapi.presence',
  'chatapi.receipt',
  'chatapi.notify',
  'chatapi.call',
  'chatapi.assist',
  'chatapi.group',
];

/**
 * The event stream with resume: the browser's EventSource sends Last-Event-ID on its own reconnects; when it
 * gives up (the gateway restarted and answered an error, or the network is gone) we open a new one with
 * `?lastEventId=` of the last durable event seen, with backoff, so nothing is lost or doubled.
 */
export class EventStream {
  private es: EventSource | undefined;
  private lastId: string | undefined;
  private retry = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** bumped by every open/suspend/close: a ticket that arrives for an older one is not used */
  private generation = 0;

  constructor(
    private readonly api: ParleyApi,
    private readonly onEvent: (e: StreamEvent) => void,
    private readonly onStatus: (s: StreamStatus) => void,
    private readonly onEnded: () => void = () => undefined,
    lastEventId?: string,
  ) {
    this.lastId = lastEventId;
  }

  get lastEventId(): string | undefined {
    return this.lastId;
  }

  open(): void {
    if (this.closed) return;
    this.onStatus(this.retry === 0 ? 'connecting' : 'reconnecting');
    const generation = ++this.generation;
    this.api.eventsUrl(this.lastId).then(
      (url) => {
        if (generation === this.generation && !this.closed) this.connect(url);
      },
      (err: unknown) => {
        if (generation === this.generation) this.refused(err);
      },
    );
  }

  /**
   * The browser's own reconnect reuses the URL, whose ticket is spent: it fails, and schedule() opens a new
   * stream with a new ticket from the last durable event seen.
   */
  private connect(url: string): void {
    const es = new EventSource(url);
    this.es = es;
    es.onopen = () => {
      this.retry = 0;
      this.onStatus('online');
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        this.es = undefined;
        this.schedule();
      } else this.onStatus('reconnecting');
    };
    for (const name of EVENT_NAMES) {
      es.addEventListener(name, (ev) => {
        const m = ev as MessageEvent<string>;
        if (m.lastEventId) this.lastId = m.lastEventId;
        let data: Record<string, unknown>;
        try {
          data = JSON.parse(m.data) as Record<string, unknown>;
        } catch {
          return;
        }
        this.onEvent({ name, id: m.lastEventId || undefined, data });
      });
    }
  }

  private schedule(): void {
    if (this.closed) return;
    this.onStatus('reconnecting');
    const delay = Math.min(15000, 500 * 2 ** this.retry++);
    this.timer = setTimeout(() => {
      // A stream refused for good (the session was logged off, idled out, or the gateway restarted without it)
      // cannot resume: ask once, and hand over to onEnded instead of retrying forever.
      this.api.session().then(
        () => this.open(),
        (err: unknown) => this.refused(err),
      );
    }, delay);
  }

  private refused(err: unknown): void {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 404)) {
      this.closed = true;
      this.onEnded();
    } else this.schedule();
  }

  /** The network is gone: close now (the browser would wait for a timeout) and show it. */
  suspend(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.generation++;
    this.es?.close();
    this.es = undefined;
    this.onStatus('reconnecting');
  }

  /** The network is back: reopen at once from the last durable event seen. */
  resume(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.es?.close();
    this.retry = 1;
    this.open();
  }

  close(): void {
    this.closed = true;
    this.generation++;
    clearTimeout(this.timer);
    this.es?.close();
    this.onStatus('offline');
  }
}

export const bare = (jid: string): string => jid.split('/')[0] ?? jid;
export const localpart = (jid: string): string => bare(jid).split('@')[0] ?? jid;
