import type { GroupStore } from './GroupStore.js';
import type { Member } from './types.js';

/**
 * Who is in which group, in memory: presence arrives many times a second in a busy home and is routed to
 * the streams of every member of the sender's groups without a query each time. Reloaded after each write
 * on this instance and every PERIODIC_MS (writes made through another gateway instance).
 */
export class GroupIndex {
  #groups = new Map<string, Map<string, Member>>();
  #byUser = new Map<string, Set<string>>();

  constructor(private readonly store: Pick<GroupStore, 'allMembers'>) {}

  async reload(): Promise<void> {
    const groups = new Map<string, Map<string, Member>>();
    const byUser = new Map<string, Set<string>>();
    for (const { groupId, member } of await this.store.allMembers()) {
      let g = groups.get(groupId);
      if (!g) groups.set(groupId, (g = new Map()));
      g.set(member.username, member);
      let u = byUser.get(member.username);
      if (!u) byUser.set(member.username, (u = new Set()));
      u.add(groupId);
    }
    this.#groups = groups;
    this.#byUser = byUser;
  }

  groupsOf(username: string): string[] {
    return [...(this.#byUser.get(username) ?? [])];
  }

  members(groupId: string): Member[] {
    return [...(this.#groups.get(groupId)?.values() ?? [])];
  }

  member(groupId: string, username: string): Member | undefined {
    return this.#groups.get(groupId)?.get(username);
  }

  usernames(): string[] {
    return [...this.#byUser.keys()];
  }
}
