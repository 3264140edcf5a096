import type { Queryable } from '../store/db.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { AgentShow } from './xep0142.js';
import { DEFAULT_SETTINGS, type SettingsPatch, type Workgroup } from './settings.js';

/** An agent on duty in one workgroup (their last agent presence). */
export interface AgentRow {
  workgroup: string;
  jid: string;
  fullJid: string;
  show: AgentShow;
  maxChats?: number;
  since: Date;
}

interface WgRow {
  name: string;
  description: string | null;
  offer_timeout_ms: number;
  request_timeout_ms: number;
  max_chats: number;
  rejection_memory_ms: number;
  welcome_text: string | null;
  closing_text: string | null;
  members: string[] | null;
}
interface AgentDbRow {
  workgroup: string;
  jid: string;
  full_jid: string;
  show: AgentShow;
  max_chats: number | null;
  since: Date;
}

const SELECT_WG = `SELECT w.*, (SELECT array_agg(m.jid ORDER BY m.jid) FROM workgroup_members m WHERE m.workgroup = w.name) AS members
  FROM workgroups w`;

const toWorkgroup = (r: WgRow): Workgroup => ({
  name: r.name,
  description: r.description ?? undefined,
  members: r.members ?? [],
  offerTimeoutMs: r.offer_timeout_ms,
  requestTimeoutMs: r.request_timeout_ms,
  maxChats: r.max_chats,
  rejectionMemoryMs: r.rejection_memory_ms,
  welcomeText: r.welcome_text ?? undefined,
  closingText: r.closing_text ?? undefined,
});
const toAgent = (r: AgentDbRow): AgentRow => ({
  workgroup: r.workgroup,
  jid: r.jid,
  fullJid: r.full_jid,
  show: r.show,
  maxChats: r.max_chats ?? undefined,
  since: r.since,
});

const COLUMN: Record<keyof SettingsPatch, string> = {
  description: 'description',
  offerTimeoutMs: 'offer_timeout_ms',
  requestTimeoutMs: 'request_timeout_ms',
  maxChats: 'max_chats',
  rejectionMemoryMs: 'rejection_memory_ms',
  welcomeText: 'welcome_text',
  closingText: 'closing_text',
};

/**
 * Workgroups, their members and the agents on duty. Statements are single and independent: with the
 * embedded Postgres (one connection) no call may hold a connection while awaiting another.
 */
export class WorkgroupStore {
  constructor(private readonly db: Queryable) {}

  async create(w: Workgroup): Promise<Workgroup> {
    const s = { ...DEFAULT_SETTINGS, ...w };
    try {
      await this.db.query(
        `WITH wg AS (INSERT INTO workgroups (name, description, offer_timeout_ms, request_timeout_ms, max_chats, rejection_memory_ms, welcome_text, closing_text)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING name)
         INSERT INTO workgroup_members (workgroup, jid) SELECT wg.name, m FROM wg, unnest($9::text[]) AS m`,
        [
          w.name,
          w.description ?? null,
          s.offerTimeoutMs,
          s.requestTimeoutMs,
          s.maxChats,
          s.rejectionMemoryMs,
          s.welcomeText || null,
          s.closingText || null,
          w.members,
        ],
      );
    } catch (err) {
      if ((err as { code?: string }).code === '23505')
        throw new BridgeError('CONFLICT', `workgroup ${w.name} already exists`);
      throw err;
    }
    return (await this.get(w.name))!;
  }

  async get(name: string): Promise<Workgroup | undefined> {
    const { rows } = await this.db.query<WgRow>(`${SELECT_WG} WHERE w.name = $1`, [name]);
    return rows[0] && toWorkgroup(rows[0]);
  }

  async require(name: string): Promise<Workgroup> {
    const w = await this.get(name);
    if (!w) throw new BridgeError('NOT_FOUND', `no workgroup named ${name}`);
    return w;
  }

  async list(): Promise<Workgroup[]> {
    const { rows } = await this.db.query<WgRow>(`${SELECT_WG} ORDER BY w.name`);
    return rows.map(toWorkgroup);
  }

  /** Settings and description; absent fields keep their value, empty texts clear them. */
  async update(name: string, patch: SettingsPatch): Promise<void> {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as [
      keyof SettingsPatch,
      unknown,
    ][];
    if (!entries.length) return;
    const sets = entries.map(([k], i) => `${COLUMN[k]} = $${i + 2}`).join(', ');
    await this.db.query(`UPDATE workgroups SET ${sets} WHERE name = $1`, [
      name,
      ...entries.map(([, v]) => (v === '' || v === null ? null : v)),
    ]);
  }

  /** Replaces the member list; agents on duty who are no longer members go off duty. */
  async setMembers(name: string, members: string[]): Promise<void> {
    await this.db.query(
      `WITH gone AS (DELETE FROM workgroup_members WHERE workgroup = $1 AND NOT (jid = ANY($2::text[])))
       INSERT INTO workgroup_members (workgroup, jid) SELECT $1, m FROM unnest($2::text[]) AS m ON CONFLICT DO NOTHING`,
      [name, members],
    );
    await this.db.query('DELETE FROM workgroup_agents WHERE workgroup = $1 AND NOT (jid = ANY($2::text[]))', [
      name,
      members,
    ]);
  }

  async delete(name: string): Promise<boolean> {
    const res = await this.db.query('DELETE FROM workgroups WHERE name = $1', [name]);
    return (res.rowCount ?? 0) > 0;
  }

  async isMember(name: string, jid: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'SELECT 1 FROM workgroup_members WHERE workgroup = $1 AND jid = $2',
      [name, jid],
    );
    return rows.length > 0;
  }

  async workgroupsOf(jid: string): Promise<Workgroup[]> {
    const { rows } = await this.db.query<WgRow>(
      `${SELECT_WG} WHERE EXISTS (SELECT 1 FROM workgroup_members m WHERE m.workgroup = w.name AND m.jid = $1) ORDER BY w.name`,
      [jid],
    );
    return rows.map(toWorkgroup);
  }

  // ---- agents on duty -----------------------------------------------------------------------------

  async agents(workgroup: string): Promise<AgentRow[]> {
    const { rows } = await this.db.query<AgentDbRow>(
      'SELECT * FROM workgroup_agents WHERE workgroup = $1 ORDER BY since, jid',
      [workgroup],
    );
    return rows.map(toAgent);
  }

  async agent(workgroup: string, jid: string): Promise<AgentRow | undefined> {
    const { rows } = await this.db.query<AgentDbRow>(
      'SELECT * FROM workgroup_agents WHERE workgroup = $1 AND jid = $2',
      [workgroup, jid],
    );
    return rows[0] && toAgent(rows[0]);
  }

  /** On duty (again): a changed show or limit keeps the agent's place in the rotation. */
  async upsertAgent(a: Omit<AgentRow, 'since'>, now: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO workgroup_agents (workgroup, jid, full_jid, show, max_chats, since) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (workgroup, jid) DO UPDATE SET full_jid = EXCLUDED.full_jid, show = EXCLUDED.show, max_chats = EXCLUDED.max_chats`,
      [a.workgroup, a.jid, a.fullJid, a.show, a.maxChats ?? null, now],
    );
  }

  /** Off duty, but only if this resource is the one on duty (another resource may have taken over). */
  async removeAgent(workgroup: string, fullJid: string): Promise<boolean> {
    const res = await this.db.query('DELETE FROM workgroup_agents WHERE workgroup = $1 AND full_jid = $2', [
      workgroup,
      fullJid,
    ]);
    return (res.rowCount ?? 0) > 0;
  }

  /** A resource that is gone (an offer bounced): off duty everywhere; returns the workgroups it left. */
  async removeResource(fullJid: string): Promise<string[]> {
    const { rows } = await this.db.query<{ workgroup: string }>(
      'DELETE FROM workgroup_agents WHERE full_jid = $1 RETURNING workgroup',
      [fullJid],
    );
    return rows.map((r) => r.workgroup);
  }
}
