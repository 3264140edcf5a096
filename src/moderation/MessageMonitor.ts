import type { Log } from '../log.js';
import type { Queryable } from '../store/db.js';
import type { AdminMessageLog } from '../messages/MessageLog.js';
import { bareJid } from '../xmpp/jid.js';

/** One item of the live admin monitor: a message (1:1, room, BBB) or a new complaint. */
export interface MonitorItem {
  event: 'chatapi.monitor' | 'chatapi.report';
  payload: Record<string, unknown>;
  /** what the filters look at */
  match: { users: string[]; room: string | null; hasAttachments: boolean };
}
export interface MonitorFilter {
  user?: string;
  room?: string;
  hasAttachments?: boolean;
}
type Push = (item: MonitorItem) => void;
interface Cursors {
  messages: number;
  bbb: number;
  reports: number;
}

/** Rows re-read behind the newest seen id each poll: transactions commit out of id order. */
const BACK_WINDOW = 256;
const PAGE = 500;
const SEEN_MAX = 20_000;

/**
 * The live monitor reads new rows from PostgreSQL (messages, bbb_messages, moderation_reports) instead
 * of hooking EventHub: the database is shared by every instance, so an admin on any instance sees the
 * whole cluster's traffic, and BBB-forwarded messages (stored by the bridge, never published to the
 * hub) come through the same way. The price is up to one poll interval of delay, and one query per
 * table per interval — only while at least one monitor stream is open. A message stored once per
 * owner is shown once (the same fold key as the history views); a transaction committing more than
 * BACK_WINDOW ids behind the newest row seen would be missed.
 */
export class MessageMonitor {
  readonly #subs = new Map<Push, MonitorFilter>();
  readonly #seen = new Set<string>();
  #cursors?: Cursors;
  /** ids at subscribe time: the back-window must not replay what was there before the monitor opened */
  #floor: Cursors = { messages: 0, bbb: 0, reports: 0 };
  #timer?: NodeJS.Timeout;
  #stopped = false;

  constructor(
    private readonly deps: {
      db: Queryable;
      messages: Pick<AdminMessageLog, 'newestRowId' | 'rowsAfter'>;
      log: Log;
      pollMs: number;
      domain: string;
    },
  ) {}

  /** Starts the poller with the first subscriber; resolves once the cursors are set (only newer traffic is shown). */
  async subscribe(filter: MonitorFilter, push: Push): Promise<() => void> {
    this.#subs.set(push, filter);
    if (!this.#cursors) {
      const newestMessage = await this.deps.messages.newestRowId();
      const { rows } = await this.deps.db.query<{ b: string; r: string }>(
        `SELECT (SELECT coalesce(max(id), 0) FROM bbb_messages) AS b, (SELECT coalesce(max(id), 0) FROM moderation_reports) AS r`,
      );
      if (!this.#cursors) {
        this.#cursors = {
          messages: newestMessage,
          bbb: Number(rows[0]!.b),
          reports: Number(rows[0]!.r),
        };
        this.#floor = { ...this.#cursors };
      }
      this.#schedule();
    }
    return () => {
      this.#subs.delete(push);
      if (this.#subs.size === 0) this.#idle();
    };
  }

  stop(): void {
    this.#stopped = true;
    this.#idle();
  }

  get subscribers(): number {
    return this.#subs.size;
  }

  #idle(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#cursors = undefined;
    this.#seen.clear();
  }

  #schedule(): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => {
      void this.poll()
        .catch((err) => this.deps.log.warn({ err }, 'monitor poll failed'))
        .finally(() => {
          this.#timer = undefined;
          if (this.#subs.size > 0 && this.#cursors) this.#schedule();
        });
    }, this.deps.pollMs);
  }

  /** One round over the three tables (public for tests). */
  async poll(): Promise<void> {
    const c = this.#cursors;
    if (!c) return;
    const items = [...(await this.#messages(c)), ...(await this.#bbb(c)), ...(await this.#reports(c))];
    for (const [push, filter] of this.#subs) {
      for (const item of items) if (matches(item, filter)) push(item);
    }
  }

  #fresh(key: string): boolean {
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > SEEN_MAX) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }

  async #messages(c: { messages: number }): Promise<MonitorItem[]> {
    const rows = await this.deps.messages.rowsAfter(Math.max(0, c.messages - BACK_WINDOW), PAGE);
    const items: MonitorItem[] = [];
    for (const r of rows) {
      c.messages = Math.max(c.messages, Number(r.id));
      if (Number(r.id) <= this.#floor.messages) continue;
      const from = bareJid(r.fromJid);
      const to = bareJid(r.toJid);
      const room = r.kind === 'groupchat' ? r.peer : null;
      const key = room
        ? `g|${room}|${r.stanzaId ?? `${r.nick ?? ''}/${r.messageId ?? `row${r.id}`}`}`
        : `c|${from}|${to}|${r.messageId ?? `row${r.id}`}`;
      if (!this.#fresh(key)) continue;
      // In a room the sender's real JID is hidden; the Parley user whose copy says `out` is the sender.
      const users = room ? (r.direction === 'out' ? [`${r.owner}@${this.deps.domain}`] : []) : [from, to];
      items.push({
        event: 'chatapi.monitor',
        payload: {
          source: room ? 'room' : 'chat',
          id: String(r.id),
          type: r.kind,
          from: r.fromJid,
          to: room ?? to,
          room,
          nick: r.nick,
          body: r.body,
          data: r.data ?? null,
          stanzaId: r.messageId,
          archiveId: r.stanzaId,
          hasAttachments: r.hasAttachments,
          timestamp: r.sentAt.toISOString(),
        },
        match: { users, room, hasAttachments: r.hasAttachments },
      });
    }
    return items;
  }

  async #bbb(c: { bbb: number }): Promise<MonitorItem[]> {
    const { rows } = await this.deps.db.query<{
      id: string;
      origin: string;
      sender_id: string | null;
      sender_name: string;
      message: string;
      created_at: Date;
      room_jid: string;
      registered_id: string;
    }>(
      `SELECT b.id, b.origin, b.sender_id, b.sender_name, b.message, b.created_at, m.room_jid, m.registered_id
          FROM bbb_messages b JOIN bbb_meetings m ON m.id = b.meeting WHERE b.id > $1 ORDER BY b.id LIMIT ${PAGE}`,
      [Math.max(0, c.bbb - BACK_WINDOW)],
    );
    return rows.flatMap((r) => {
      c.bbb = Math.max(c.bbb, Number(r.id));
      if (Number(r.id) <= this.#floor.bbb || !this.#fresh(`b|${r.id}`)) return [];
      const hasAttachments = /^(https?|aesgcm):\/\/\S+$/.test(r.message);
      return [
        {
          event: 'chatapi.monitor' as const,
          payload: {
            source: 'bbb',
            id: `bbb-${r.id}`,
            type: 'bbb',
            origin: r.origin,
            meeting: r.registered_id,
            room: r.room_jid,
            nick: r.sender_name,
            from: r.sender_id ?? r.sender_name,
            to: r.room_jid,
            body: r.message,
            hasAttachments,
            timestamp: r.created_at.toISOString(),
          },
          match: { users: [], room: r.room_jid, hasAttachments },
        },
      ];
    });
  }

  async #reports(c: { reports: number }): Promise<MonitorItem[]> {
    const { rows } = await this.deps.db.query<{
      id: string;
      reporter: string;
      reported_jid: string;
      reason: string;
      text: string | null;
      created_at: Date;
    }>(
      `SELECT id, reporter, reported_jid, reason, text, created_at FROM moderation_reports WHERE id > $1 ORDER BY id LIMIT ${PAGE}`,
      [Math.max(0, c.reports - BACK_WINDOW)],
    );
    return rows.flatMap((r) => {
      c.reports = Math.max(c.reports, Number(r.id));
      if (Number(r.id) <= this.#floor.reports || !this.#fresh(`r|${r.id}`)) return [];
      return [
        {
          event: 'chatapi.report' as const,
          payload: {
            id: String(r.id),
            reporter: r.reporter,
            reported: r.reported_jid,
            reason: r.reason,
            text: r.text,
            timestamp: r.created_at.toISOString(),
          },
          match: { users: [r.reporter, r.reported_jid], room: null, hasAttachments: false },
        },
      ];
    });
  }
}

/** Pure: does an item pass a monitor stream's filters? Complaints ignore the attachments filter. */
export function matches(item: MonitorItem, f: MonitorFilter): boolean {
  if (f.user && !item.match.users.includes(f.user)) return false;
  if (f.room && item.match.room !== f.room) return false;
  if (
    f.hasAttachments !== undefined &&
    item.event === 'chatapi.monitor' &&
    item.match.hasAttachments !== f.hasAttachments
  )
    return false;
  return true;
}
