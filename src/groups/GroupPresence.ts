/**
 * Members' presence as the XMPP server reports it to Parley's admin JID (XMPP_ADMIN_JID).
 *
 * Parley-managed subscriptions: for every group member, the admin session keeps a roster item (roster group
 * `parley:groups`) and a presence subscription to the member. The server stores both, so they survive
 * restarts of Parley and of the XMPP server; on every (re)connection the admin session sends its initial
 * presence and the server answers with every watched member's current presence (RFC 6121 §4.2.2), whatever
 * client the member uses. A member's Parley session approves the request by itself (the groups feature's
 * stanza route); a native client approves it once. Plain RFC 6121, so it works on ejabberd as on Prosody.
 * References: RFC 6121 §2 (roster), §3.1 (requesting a subscription), §4.2–4.5 (presence).
 */
import xml, { type Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import type { AdminConnection } from '../xmpp/admin/AdminConnection.js';
import { bareJid } from '../xmpp/jid.js';
import { NS } from '../xmpp/ns.js';
import type { MemberPresence, Show } from './types.js';

/** The roster group that marks the admin's items Parley manages: others are never touched. */
export const WATCH_GROUP = 'parley:groups';
const SHOWS: readonly string[] = ['away', 'chat', 'dnd', 'xa'];
const OFFLINE: MemberPresence = { online: false, show: 'offline', status: null };

interface Resource {
  show: Show;
  status: string | null;
  priority: number;
}
interface RosterEntry {
  subscription: string;
  ask: boolean;
}
export type AdminLink = Pick<
  AdminConnection,
  'jid' | 'isOnline' | 'on' | 'onStanza' | 'onIqSet' | 'send' | 'iq'
>;
export type PresenceChanged = (bare: string, before: MemberPresence, after: MemberPresence) => void;

export class GroupPresence {
  readonly #resources = new Map<string, Map<string, Resource>>();
  #roster = new Map<string, RosterEntry>();
  #changed: PresenceChanged = () => undefined;

  constructor(
    private readonly deps: {
      admin: AdminLink;
      log: Log;
      /** the bare JIDs that should be watched now (every group member) */
      watched: () => Iterable<string>;
    },
  ) {}

  get adminJid(): string {
    return bareJid(this.deps.admin.jid);
  }

  onChange(fn: PresenceChanged): void {
    this.#changed = fn;
  }

  start(): void {
    const { admin } = this.deps;
    admin.onStanza((el) => {
      if (el.name === 'presence') this.#onPresence(el);
    });
    admin.onIqSet(NS.roster, 'query', (el) => this.#onRosterPush(el));
    admin.on('online', () => void this.#connected());
    admin.on('offline', () => this.#forgetAll());
    if (admin.isOnline) void this.#connected();
  }

  of(bare: string): MemberPresence {
    const res = this.#resources.get(bare);
    if (!res?.size) return OFFLINE;
    let best: Resource | undefined;
    for (const r of res.values()) if (!best || r.priority > best.priority) best = r;
    return { online: true, show: best!.show, status: best!.status };
  }

  /** Asks to see the member's presence, unless already allowed or asked (idempotent). */
  async watch(bare: string, name: string | null): Promise<void> {
    const have = this.#roster.get(bare);
    if (have && (have.subscription === 'to' || have.subscription === 'both' || have.ask)) return;
    const item = xml('item', { jid: bare, ...(name ? { name } : {}) }, xml('group', {}, WATCH_GROUP));
    await this.deps.admin.iq(
      xml('iq', { type: 'set' }, xml('query', { xmlns: NS.roster }, item)),
      10_000,
      'roster set',
    );
    await this.deps.admin.send(xml('presence', { to: bare, type: 'subscribe' }));
    this.#roster.set(bare, { subscription: have?.subscription ?? 'none', ask: true });
  }

  /**
   * A member's session came online: asks again unless the admin already sees the member's presence. Members
   * are often added before their first login creates the account, and ejabberd (23.01) keeps no request to an
   * account that does not exist (Prosody keeps it pending): the admin's roster still shows it asked, yet
   * the member never receives it. A repeated request to a member who has it pending is answered the same way.
   */
  async rewatch(bare: string): Promise<void> {
    const have = this.#roster.get(bare);
    if (!have) return this.watch(bare, null);
    if (have.subscription === 'to' || have.subscription === 'both') return;
    await this.deps.admin.send(xml('presence', { to: bare, type: 'subscribe' }));
  }

  /** Stops watching: removing the roster item cancels the subscription (RFC 6121 §2.5). */
  async unwatch(bare: string): Promise<void> {
    if (!this.#roster.has(bare)) return;
    const item = xml('item', { jid: bare, subscription: 'remove' });
    await this.deps.admin.iq(
      xml('iq', { type: 'set' }, xml('query', { xmlns: NS.roster }, item)),
      10_000,
      'roster remove',
    );
    this.#roster.delete(bare);
    this.#set(bare, undefined);
  }

  /**
   * After every (re)connection: read the roster, ask for what is missing (a member added while the server
   * was away, a request the member's server lost), drop what no group needs, then send initial presence
   * (priority -1: messages to the admin's bare JID are not routed to this session) so the server sends
   * every watched member's current presence.
   */
  async #connected(): Promise<void> {
    const { admin, log } = this.deps;
    try {
      const result = await admin.iq(
        xml('iq', { type: 'get' }, xml('query', { xmlns: NS.roster })),
        10_000,
        'roster get',
      );
      const roster = new Map<string, RosterEntry>();
      for (const i of result.getChild('query', NS.roster)?.getChildren('item') ?? []) {
        if (!i.getChildren('group').some((g) => g.text() === WATCH_GROUP)) continue;
        roster.set(String(i.attrs.jid), {
          subscription: String(i.attrs.subscription ?? 'none'),
          ask: i.attrs.ask === 'subscribe',
        });
      }
      this.#roster = roster;
      const wanted = new Set(this.deps.watched());
      for (const bare of wanted) await this.watch(bare, null);
      for (const bare of [...roster.keys()]) if (!wanted.has(bare)) await this.unwatch(bare);
      await admin.send(xml('presence', {}, xml('priority', {}, '-1')));
    } catch (err) {
      log.warn({ err }, 'groups: could not set up presence watching; retried on the next connection');
    }
  }

  #onRosterPush(el: Element): boolean {
    const from = el.attrs.from as string | undefined;
    if (from && bareJid(from) !== this.adminJid) return false;
    for (const i of el.getChild('query', NS.roster)?.getChildren('item') ?? []) {
      const jid = String(i.attrs.jid);
      const sub = String(i.attrs.subscription ?? 'none');
      if (sub === 'remove') this.#roster.delete(jid);
      else if (i.getChildren('group').some((g) => g.text() === WATCH_GROUP))
        this.#roster.set(jid, { subscription: sub, ask: i.attrs.ask === 'subscribe' });
    }
    return true;
  }

  #onPresence(el: Element): void {
    const from = String(el.attrs.from ?? '');
    const bare = bareJid(from);
    const type = (el.attrs.type as string | undefined) ?? 'available';
    if (!this.#roster.has(bare) || bare === this.adminJid) return;
    if (type === 'available') {
      const show = el.getChildText('show')?.trim() ?? '';
      const priority = Number(el.getChildText('priority') ?? 0);
      this.#set(bare, (res) =>
        res.set(from, {
          show: (SHOWS.includes(show) ? show : 'available') as Show,
          status: el.getChildText('status') ?? null,
          priority: Number.isInteger(priority) ? priority : 0,
        }),
      );
    } else if (type === 'unavailable') {
      // From a bare JID (a cancelled subscription), it covers every resource.
      this.#set(bare, (res) => (from.includes('/') ? res.delete(from) : res.clear()));
    } else if (type === 'unsubscribed') {
      this.#set(bare, (res) => res.clear());
    }
  }

  /** Applies `edit` to the member's resources (undefined: forget them) and reports a visible change. */
  #set(bare: string, edit: ((res: Map<string, Resource>) => unknown) | undefined): void {
    const before = this.of(bare);
    if (edit) {
      let res = this.#resources.get(bare);
      if (!res) this.#resources.set(bare, (res = new Map()));
      edit(res);
      if (!res.size) this.#resources.delete(bare);
    } else this.#resources.delete(bare);
    const after = this.of(bare);
    if (before.online !== after.online || before.show !== after.show || before.status !== after.status)
      this.#changed(bare, before, after);
  }

  /** The admin session is gone: nothing it knew is current any more (each watched member goes offline). */
  #forgetAll(): void {
    for (const bare of [...this.#resources.keys()]) this.#set(bare, undefined);
  }
}
