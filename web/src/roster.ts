import { bare, localpart, type Contact, type ParleyApi } from './api';

/** The roster group of Parley's organisation-presence watcher (docs/api/groups.md): not a person to list. */
const WATCHER_GROUP = 'parley:groups';
const SHOW_RANK: Record<string, number> = { chat: 5, available: 5, away: 3, xa: 2, dnd: 4, offline: 0 };

interface RosterDeps {
  api: Pick<
    ParleyApi,
    'contacts' | 'addContact' | 'setGroups' | 'blocked' | 'block' | 'unblock' | 'approve' | 'subscriptions'
  >;
  changed: () => void;
  fail: (message: string) => void;
  /** someone to list among the dialogues (a contact, or a request just accepted) */
  known: (jid: string) => void;
}

/**
 * Contacts (the XMPP roster), their presence per resource, contact requests and the block list, fed by
 * `GET …/contacts`, `…/subscriptions`, `…/blocked` and `chatapi.presence` events.
 */
export class Roster {
  contacts = new Map<string, Contact>();
  /** bare JID → resource → show */
  presence = new Map<string, Map<string, string>>();
  requests: string[] = [];
  blocked = new Set<string>();

  constructor(private readonly deps: RosterDeps) {}

  async refresh(): Promise<void> {
    const [{ contacts }, { requests }, { blocked }] = await Promise.all([
      this.deps.api.contacts(),
      this.deps.api.subscriptions(),
      this.deps.api.blocked().catch(() => ({ blocked: [] as string[] })),
    ]);
    const people = contacts.filter((c) => !c.groups.includes(WATCHER_GROUP));
    this.contacts = new Map(people.map((c) => [c.jid, c]));
    for (const c of people) this.deps.known(c.jid);
    this.requests = requests.map((r) => r.jid);
    this.blocked = new Set(blocked);
  }

  displayName(jid: string): string {
    return this.contacts.get(bare(jid))?.nickname || localpart(jid);
  }

  show(jid: string): string {
    const res = this.presence.get(bare(jid));
    if (!res || res.size === 0) return this.contacts.get(bare(jid))?.show ?? 'offline';
    let best = 'offline';
    for (const s of res.values()) if ((SHOW_RANK[s] ?? 1) > (SHOW_RANK[best] ?? 0)) best = s;
    return best;
  }

  isFavorite(jid: string): boolean {
    return this.contacts.get(jid)?.groups.includes('Favorites') ?? false;
  }

  /** Favorites are the roster group `Favorites` (the contact list's documented convention). */
  async toggleFavorite(jid: string): Promise<void> {
    const c = this.contacts.get(jid);
    if (!c) return;
    const groups = this.isFavorite(jid)
      ? c.groups.filter((g) => g !== 'Favorites')
      : [...c.groups, 'Favorites'];
    await this.attempt(async () => {
      this.contacts.set(jid, { ...c, ...(await this.deps.api.setGroups(jid, groups)) });
    });
  }

  setBlocked(jid: string, block: boolean): Promise<void> {
    return this.attempt(async () => {
      if (block) {
        await this.deps.api.block(jid);
        this.blocked.add(jid);
      } else {
        await this.deps.api.unblock(jid);
        this.blocked.delete(jid);
      }
    });
  }

  addContact(jid: string): Promise<void> {
    return this.attempt(async () => {
      const c = await this.deps.api.addContact(jid);
      this.contacts.set(c.jid, c);
    });
  }

  async approve(jid: string): Promise<void> {
    await this.attempt(() => this.deps.api.approve(jid));
    this.requests = this.requests.filter((r) => r !== jid);
    this.deps.known(jid);
    this.deps.changed();
  }

  /** Requests still waiting for an answer (a contact who already sees our presence needs none). */
  pendingRequests(): string[] {
    return this.requests.filter((jid) => {
      const s = this.contacts.get(jid)?.subscription;
      return s !== 'from' && s !== 'both';
    });
  }

  /** A `chatapi.presence` event about a contact (room occupants are the rooms' business). */
  onPresence(d: Record<string, unknown>): void {
    const type = String(d.type);
    const from = typeof d.from === 'string' ? d.from : '';
    if (type === 'available' || type === 'unavailable') {
      const b = bare(from);
      const resource = from.slice(b.length + 1);
      let res = this.presence.get(b);
      if (!res) {
        res = new Map();
        this.presence.set(b, res);
      }
      if (type === 'available') res.set(resource, String(d.show ?? 'available'));
      else if (resource) res.delete(resource);
      else res.clear();
      const c = this.contacts.get(b);
      if (c) {
        c.show = this.show(b);
        c.status = (d.status as string | null) ?? null;
      }
    } else if (type === 'subscribe') {
      if (!this.requests.includes(bare(from))) this.requests = [...this.requests, bare(from)];
    } else if ((type === 'blocked' || type === 'unblocked') && Array.isArray(d.jids)) {
      if (type === 'unblocked' && d.jids.length === 0) this.blocked.clear();
      for (const j of d.jids as string[])
        if (type === 'blocked') this.blocked.add(j);
        else this.blocked.delete(j);
    } else if (type === 'roster' && d.item && typeof d.item === 'object') {
      const item = d.item as Contact;
      if (item.subscription === 'remove' || item.groups?.includes(WATCHER_GROUP))
        this.contacts.delete(item.jid);
      else {
        this.contacts.set(item.jid, { ...this.contacts.get(item.jid), ...item });
        this.deps.known(item.jid);
      }
    }
  }

  private async attempt(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (err) {
      this.deps.fail((err as Error).message);
      return;
    }
    this.deps.changed();
  }
}
