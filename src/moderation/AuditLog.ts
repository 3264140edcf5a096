import type { Queryable } from '../store/db.js';
import { keysetPage, keysetSql, SqlArgs } from '../store/cursorPage.js';

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
    const args = new SqlArgs();
    const where: string[] = [];
    if (f.actor) where.push(`actor = ${args.add(f.actor)}`);
    if (f.action) where.push(`action = ${args.add(f.action)}`);
    if (f.target) where.push(`target = ${args.add(f.target)}`);
    const page = keysetSql('id', { before: f.before, limit: f.limit }, args);
    where.push(...page.where);
    const { rows } = await this.db.query<{
      id: string;
      actor: string;
      action: string;
      target: string;
      details: Record<string, unknown>;
      created_at: Date;
    }>(
      `SELECT * FROM moderation_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${page.orderLimit}`,
      args.values,
    );
    const p = keysetPage(
      rows,
      f,
      page.forward,
      (r): AuditEntry => ({
        id: String(r.id),
        actor: r.actor,
        action: r.action,
        target: r.target,
        details: r.details,
        createdAt: r.created_at.toISOString(),
      }),
      (e) => e.id,
      'newest-first',
    );
    return { entries: p.items, page: { limit: f.limit, hasMore: p.hasMore, before: p.before } };
  }
}
