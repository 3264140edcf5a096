import type { Queryable } from '../store/db.js';

export interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  createdAt: string;
}
export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  before?: string;
  limit: number;
}

/**
 * moderation_audit: every admin action that changes something (who, what, on what, when). Reads are
 * not recorded; an action is recorded in the same statement sequence as its effect, after it succeeded.
 */
export class AuditLog {
  constructor(private readonly db: Queryable) {}

  async record(
    actor: string,
    action: string,
    target: string,
    details: Record<string, unknown> = {},
  ): Promise<AuditEntry> {
    const { rows } = await this.db.query<{ id: string; created_at: Date }>(
      'INSERT INTO moderation_audit (actor, action, target, details) VALUES ($1, $2, $3, $4) RETURNING id, created_at',
      [actor, action, target, JSON.stringify(details)],
    );
    return {
      id: String(rows[0]!.id),
      actor,
      action,
      target,
      details,
      createdAt: rows[0]!.created_at.toISOString(),
    };
  }

  async list(
    f: AuditFilter,
  ): Promise<{ entries: AuditEntry[]; page: { limit: number; hasMore: boolean; before: string | null } }> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (f.actor) where.push(`actor = ${arg(f.actor)}`);
    if (f.action) where.push(`action = ${arg(f.action)}`);
    if (f.target) where.push(`target = ${arg(f.target)}`);
    if (f.before) where.push(`id < ${arg(f.before)}`);
    const { rows } = await this.db.query<{
      id: string;
      actor: string;
      action: string;
      target: string;
      details: Record<string, unknown>;
      created_at: Date;
    }>(
      `SELECT * FROM moderation_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${arg(f.limit + 1)}`,
      args,
    );
    const entries = rows.slice(0, f.limit).map((r) => ({
      id: String(r.id),
      actor: r.actor,
      action: r.action,
      target: r.target,
      details: r.details,
      createdAt: r.created_at.toISOString(),
    }));
    return {
      entries,
      page: { limit: f.limit, hasMore: rows.length > f.limit, before: entries.at(-1)?.id ?? null },
    };
  }
}
