/**
 * Organisation presence (`chatapi.group`): the user's groups and their members with live presence, kept
 * from the snapshot every stream connect brings and the changes after it (docs/api/groups.md).
 */
export interface GroupMember {
  username: string;
  jid: string;
  name: string | null;
  avatar: string | null;
  site: string | null;
  role: 'member' | 'admin';
  online: boolean;
  show: string;
  status: string | null;
}

export class Groups {
  /** group id → members by username */
  readonly groups = new Map<string, Map<string, GroupMember>>();

  constructor(private readonly me: () => string) {}

  onEvent(d: Record<string, unknown>): void {
    const group = String(d.group ?? '');
    if (!group) return;
    if (d.type === 'snapshot') {
      const members = (d.members ?? []) as GroupMember[];
      this.groups.set(group, new Map(members.map((m) => [m.username, m])));
      return;
    }
    const m = d.member as GroupMember | undefined;
    if (!m) return;
    if (d.type === 'left') {
      if (m.username === this.me()) this.groups.delete(group);
      else this.groups.get(group)?.delete(m.username);
      return;
    }
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = new Map()));
    g.set(m.username, m);
  }

  /** Whether the JID is an admin (staff) of one of the user's organisations: the trust rule for auto-answer. */
  isStaff(jid: string): boolean {
    for (const g of this.groups.values())
      for (const m of g.values()) if (m.jid === jid && m.role === 'admin') return true;
    return false;
  }

  isAdmin(group: string): boolean {
    return this.groups.get(group)?.get(this.me())?.role === 'admin';
  }

  /** Online first, then by name. */
  members(group: string): GroupMember[] {
    const label = (m: GroupMember) => (m.name ?? m.username).toLowerCase();
    return [...(this.groups.get(group)?.values() ?? [])].sort(
      (a, b) => Number(b.online) - Number(a.online) || label(a).localeCompare(label(b)),
    );
  }
}
