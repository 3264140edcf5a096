import type pg from 'pg';
import { withTransaction, type Pool } from '../store/db.js';
import type { Group, GroupInput, Member, MemberFields, Site } from './types.js';

type Tx = Pick<pg.PoolClient, 'query'>;
interface MemberRow {
  group_id: string;
  username: string;
  name: string | null;
  avatar: string | null;
  site: string | null;
  role: Member['role'];
}
const toMember = (r: MemberRow): Member => ({
  username: r.username,
  name: r.name,
  avatar: r.avatar,
  site: r.site,
  role: r.role,
});

/** What a membership write changed, so the caller can tell the XMPP server and the streams. */
export interface MembershipChange {
  added: Member[];
  changed: Member[];
  removed: string[];
}

/** The only owner of tables groups, group_sites and group_members (migration 0016). */
export class GroupStore {
  constructor(private readonly db: Pool) {}

  async list(): Promise<Group[]> {
    const { rows } = await this.db.query<{ id: string; name: string; sites: Site[]; member_count: number }>(
      `SELECT g.id, g.name,
              coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name) ORDER BY s.id)
                          FROM group_sites s WHERE s.group_id = g.id), '[]') AS sites,
              (SELECT count(*)::int FROM group_members m WHERE m.group_id = g.id) AS member_count
         FROM groups g ORDER BY g.id`,
    );
    return rows.map((r) => ({ id: r.id, name: r.name, sites: r.sites, memberCount: r.member_count }));
  }

  async get(id: string): Promise<Group | undefined> {
    return (await this.list()).find((g) => g.id === id);
  }

  /** Creates the group or replaces its name and sites; members of a site that is gone keep no site. */
  async upsert(id: string, input: GroupInput): Promise<{ created: boolean }> {
    return withTransaction(this.db, async (tx) => {
      const { rows } = await tx.query<{ created: boolean }>(
        `INSERT INTO groups (id, name) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [id, input.name],
      );
      const ids = input.sites.map((s) => s.id);
      await tx.query('DELETE FROM group_sites WHERE group_id = $1 AND NOT (id = ANY($2::text[]))', [id, ids]);
      for (const s of input.sites)
        await tx.query(
          `INSERT INTO group_sites (group_id, id, name) VALUES ($1, $2, $3)
           ON CONFLICT (group_id, id) DO UPDATE SET name = EXCLUDED.name`,
          [id, s.id, s.name],
        );
      return { created: rows[0]!.created };
    });
  }

  /** The members it had (their presence subscriptions may end), or undefined for an unknown group. */
  async remove(id: string): Promise<string[] | undefined> {
    return withTransaction(this.db, async (tx) => {
      const members = await tx.query<{ username: string }>(
        'SELECT username FROM group_members WHERE group_id = $1',
        [id],
      );
      const { rowCount } = await tx.query('DELETE FROM groups WHERE id = $1', [id]);
      return rowCount ? members.rows.map((r) => r.username) : undefined;
    });
  }

  async members(groupId: string): Promise<Member[]> {
    const { rows } = await this.db.query<MemberRow>(
      'SELECT * FROM group_members WHERE group_id = $1 ORDER BY username',
      [groupId],
    );
    return rows.map(toMember);
  }

  /** Every membership: the in-memory index that routes presence to the members' streams. */
  async allMembers(): Promise<{ groupId: string; member: Member }[]> {
    const { rows } = await this.db.query<MemberRow>(
      'SELECT * FROM group_members ORDER BY group_id, username',
    );
    return rows.map((r) => ({ groupId: r.group_id, member: toMember(r) }));
  }

  /** Whether the user belongs to any group (else Parley stops watching their presence). */
  async isMemberAnywhere(username: string): Promise<boolean> {
    const { rowCount } = await this.db.query('SELECT 1 FROM group_members WHERE username = $1 LIMIT 1', [
      username,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async siteExists(groupId: string, site: string): Promise<boolean> {
    const { rowCount } = await this.db.query('SELECT 1 FROM group_sites WHERE group_id = $1 AND id = $2', [
      groupId,
      site,
    ]);
    return (rowCount ?? 0) > 0;
  }

  /** Sets one member's fields (PUT: absent fields are cleared). */
  async putMember(groupId: string, username: string, f: MemberFields): Promise<MembershipChange> {
    return withTransaction(this.db, (tx) => this.#put(tx, groupId, username, f));
  }

  async removeMember(groupId: string, username: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'DELETE FROM group_members WHERE group_id = $1 AND username = $2',
      [groupId, username],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Replaces the whole member list: those not named leave, the others are set as given. */
  async replaceMembers(
    groupId: string,
    members: (MemberFields & { username: string })[],
  ): Promise<MembershipChange> {
    return withTransaction(this.db, async (tx) => {
      const names = members.map((m) => m.username);
      const gone = await tx.query<{ username: string }>(
        `DELETE FROM group_members WHERE group_id = $1 AND NOT (username = ANY($2::text[])) RETURNING username`,
        [groupId, names],
      );
      const out: MembershipChange = { added: [], changed: [], removed: gone.rows.map((r) => r.username) };
      for (const m of members) {
        const one = await this.#put(tx, groupId, m.username, m);
        out.added.push(...one.added);
        out.changed.push(...one.changed);
      }
      return out;
    });
  }

  async #put(tx: Tx, groupId: string, username: string, f: MemberFields): Promise<MembershipChange> {
    const { rows } = await tx.query<MemberRow & { created: boolean }>(
      `INSERT INTO group_members (group_id, username, name, avatar, site, role)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (group_id, username) DO UPDATE
         SET name = EXCLUDED.name, avatar = EXCLUDED.avatar, site = EXCLUDED.site, role = EXCLUDED.role
       RETURNING *, (xmax = 0) AS created`,
      [groupId, username, f.name ?? null, f.avatar ?? null, f.site ?? null, f.role],
    );
    const row = rows[0]!;
    return row.created
      ? { added: [toMember(row)], changed: [], removed: [] }
      : { added: [], changed: [toMember(row)], removed: [] };
  }
}
