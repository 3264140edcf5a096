import { BridgeError } from '../errors/BridgeError.js';
import type { Log } from '../log.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES, type DeliveredEvent } from '../sse/events.js';
import { domainOf, localOf } from '../xmpp/jid.js';
import type { GroupIndex } from './GroupIndex.js';
import type { GroupPresence } from './GroupPresence.js';
import type { GroupStore, MembershipChange } from './GroupStore.js';
import type {
  Group,
  GroupEventType,
  GroupInput,
  Member,
  MemberFields,
  MemberPresence,
  MemberView,
} from './types.js';

const OFFLINE: MemberPresence = { online: false, show: 'offline', status: null };

export interface GroupServiceDeps {
  store: GroupStore;
  index: GroupIndex;
  /** undefined without XMPP_ADMIN_JID: membership works, presence is unknown */
  presence?: GroupPresence;
  hub: Pick<EventHub, 'publish' | 'deliverLocal' | 'listenerCount'>;
  domain: string;
  log: Log;
}

/**
 * Organisations and their members (admin API), and their live presence as `chatapi.group` events to the
 * streams of every member of the group (as a shared roster shows everyone to everyone). Presence events
 * go to this instance's streams only: every gateway instance has its own admin session and sees the same
 * presence. Membership and profile changes are published once, through the cluster bus.
 */
export class GroupService {
  constructor(private readonly deps: GroupServiceDeps) {
    deps.presence?.onChange((bare, before, after) => this.#presenceChanged(bare, before, after));
  }

  jidOf(username: string): string {
    return `${username}@${this.deps.domain}`;
  }

  view(m: Member): MemberView {
    const jid = this.jidOf(m.username);
    const { username, ...fields } = m;
    return { username, jid, ...fields, ...(this.deps.presence?.of(jid) ?? OFFLINE) };
  }

  list(): Promise<Group[]> {
    return this.deps.store.list();
  }

  async get(id: string): Promise<Group> {
    const g = await this.deps.store.get(id);
    if (!g) throw new BridgeError('NOT_FOUND', `no group "${id}"`);
    return g;
  }

  async put(id: string, input: GroupInput): Promise<{ group: Group; created: boolean }> {
    const { created } = await this.deps.store.upsert(id, input);
    await this.deps.index.reload();
    return { group: await this.get(id), created };
  }

  async remove(id: string): Promise<void> {
    const members = await this.deps.store.remove(id);
    if (!members) throw new BridgeError('NOT_FOUND', `no group "${id}"`);
    await this.#after(id, { added: [], changed: [], removed: members }, members);
  }

  /** `online`: only members with an available resource; `site`: only that site's members. */
  async members(id: string, filter: { online?: boolean; site?: string }): Promise<MemberView[]> {
    await this.get(id);
    if (filter.online && !this.deps.presence)
      throw new BridgeError(
        'XMPP_UNAVAILABLE',
        'presence needs XMPP_ADMIN_JID (Parley watches members through it)',
      );
    return (await this.deps.store.members(id))
      .filter((m) => filter.site === undefined || m.site === filter.site)
      .map((m) => this.view(m))
      .filter((m) => !filter.online || m.online);
  }

  async putMember(
    id: string,
    username: string,
    fields: MemberFields,
  ): Promise<{ member: MemberView; created: boolean }> {
    await this.get(id);
    if (fields.site && !(await this.deps.store.siteExists(id, fields.site)))
      throw new BridgeError('BAD_REQUEST', `group "${id}" has no site "${fields.site}"`);
    const before = this.deps.index.members(id).map((m) => m.username);
    const change = await this.deps.store.putMember(id, username, fields);
    await this.#after(id, change, before);
    const m = [...change.added, ...change.changed][0]!;
    return { member: this.view(m), created: change.added.length > 0 };
  }

  async replaceMembers(id: string, members: (MemberFields & { username: string })[]): Promise<MemberView[]> {
    const group = await this.get(id);
    const sites = new Set(group.sites.map((s) => s.id));
    const bad = members.find((m) => m.site && !sites.has(m.site));
    if (bad)
      throw new BridgeError(
        'BAD_REQUEST',
        `group "${id}" has no site "${bad.site}" (member ${bad.username})`,
      );
    const names = new Set<string>();
    for (const m of members)
      if (names.has(m.username)) throw new BridgeError('BAD_REQUEST', `${m.username} is listed twice`);
      else names.add(m.username);
    const before = this.deps.index.members(id).map((m) => m.username);
    const change = await this.deps.store.replaceMembers(id, members);
    await this.#after(id, change, before);
    return (await this.deps.store.members(id)).map((m) => this.view(m));
  }

  async removeMember(id: string, username: string): Promise<void> {
    await this.get(id);
    const before = this.deps.index.members(id).map((m) => m.username);
    if (!(await this.deps.store.removeMember(id, username)))
      throw new BridgeError('NOT_FOUND', `${username} is not a member of "${id}"`);
    await this.#after(id, { added: [], changed: [], removed: [username] }, before);
  }

  /** Whether `username` may read the group (its members see each other). */
  isMember(id: string, username: string): boolean {
    return this.deps.index.member(id, username) !== undefined;
  }

  /** On every stream (re)connect: each of the user's groups with its members' current presence. */
  snapshot(username: string): DeliveredEvent[] {
    return this.deps.index.groupsOf(username).map((group) => ({
      name: EVENT_NAMES.group,
      payload: { type: 'snapshot', group, members: this.deps.index.members(group).map((m) => this.view(m)) },
    }));
  }

  /**
   * After a membership write: watch new members' presence (and stop watching those in no group any more),
   * then tell everyone who was or is in the group.
   */
  async #after(id: string, change: MembershipChange, before: string[]): Promise<void> {
    await this.deps.index.reload();
    const { presence, log } = this.deps;
    if (presence) {
      for (const m of change.added)
        await presence
          .watch(this.jidOf(m.username), m.name)
          .catch((err: unknown) =>
            log.warn(
              { err, username: m.username },
              'groups: presence subscription not sent; retried on reconnect',
            ),
          );
      for (const u of change.removed)
        if (!this.deps.index.groupsOf(u).length)
          await presence
            .unwatch(this.jidOf(u))
            .catch((err: unknown) => log.warn({ err, username: u }, 'groups: unwatch failed'));
    }
    const now = this.deps.index.members(id);
    const audience = new Set([...before, ...now.map((m) => m.username)]);
    const events: [GroupEventType, Member | { username: string }][] = [
      ...change.added.map((m) => ['joined', m] as [GroupEventType, Member]),
      ...change.changed.map((m) => ['changed', m] as [GroupEventType, Member]),
      ...change.removed.map((u) => ['left', { username: u }] as [GroupEventType, { username: string }]),
    ];
    const publish = (u: string, payload: Record<string, unknown>) =>
      this.deps.hub.publish(u, EVENT_NAMES.group, payload, { durable: false });
    if (events.length > 1) {
      // A bulk change (a member list replaced, a group deleted): one fresh snapshot per member rather than
      // every change to every member (1,000 members joining at once would otherwise be a million events).
      const snapshot = { type: 'snapshot', group: id, members: now.map((m) => this.view(m)) };
      for (const u of audience)
        if (this.deps.index.member(id, u)) await publish(u, snapshot);
        else await publish(u, { type: 'left', group: id, member: { username: u, jid: this.jidOf(u) } });
      return;
    }
    for (const [type, m] of events) {
      const member = 'role' in m ? this.view(m) : { username: m.username, jid: this.jidOf(m.username) };
      for (const u of audience) await publish(u, { type, group: id, member });
    }
  }

  #presenceChanged(bare: string, before: MemberPresence, after: MemberPresence): void {
    const username = localOf(bare);
    if (!username || domainOf(bare) !== this.deps.domain) return;
    const type: GroupEventType =
      after.online && !before.online ? 'online' : !after.online ? 'offline' : 'changed';
    for (const group of this.deps.index.groupsOf(username)) {
      const m = this.deps.index.member(group, username)!;
      const payload = { type, group, member: this.view(m) };
      for (const u of this.deps.index.members(group).map((x) => x.username))
        if (this.deps.hub.listenerCount(u) > 0)
          this.deps.hub.deliverLocal(u, { name: EVENT_NAMES.group, payload });
    }
  }
}
