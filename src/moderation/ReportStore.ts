import type { Queryable } from '../store/db.js';
import { keysetPage, keysetSql, SqlArgs } from '../store/cursorPage.js';
import type { ReportReason } from './reportStanzas.js';
import type { ChatHistoryItem } from '../messages/types.js';

/** What the reporter complained about: a copy of each message as they saw it (kept even if history is deleted). */
export type ReportedMessage = Pick<
  ChatHistoryItem,
  'id' | 'type' | 'from' | 'to' | 'body' | 'data' | 'stanzaId' | 'archiveId' | 'timestamp'
>;

export type ReportStatus = 'open' | 'resolved' | 'dismissed';

export interface Report {
  id: string;
  reporter: string;
  reported: string;
  reason: ReportReason;
  text: string | null;
  messages: ReportedMessage[];
  blocked: boolean;
  serverReported: boolean;
  status: ReportStatus;
  resolvedBy: string | null;
  resolution: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

export interface NewReport {
  reporter: string;
  reported: string;
  reason: ReportReason;
  text?: string;
  messages: ReportedMessage[];
  blocked: boolean;
  serverReported: boolean;
}

export interface ReportFilter {
  status?: ReportStatus;
  reporter?: string;
  reported?: string;
  before?: string;
  limit: number;
}

interface Row {
  id: string;
  reporter: string;
  reported_jid: string;
  reason: ReportReason;
  text: string | null;
  messages: ReportedMessage[];
  blocked: boolean;
  server_reported: boolean;
  status: ReportStatus;
  resolved_by: string | null;
  resolution: string | null;
  resolved_at: Date | null;
  created_at: Date;
}

/** moderation_reports (0010_moderation.sql). */
export class ReportStore {
  constructor(private readonly db: Queryable) {}

  async insert(r: NewReport): Promise<Report> {
    const { rows } = await this.db.query<Row>(
      `INSERT INTO moderation_reports (reporter, reported_jid, reason, text, messages, blocked, server_reported)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [
        r.reporter,
        r.reported,
        r.reason,
        r.text ?? null,
        JSON.stringify(r.messages),
        r.blocked,
        r.serverReported,
      ],
    );
    return toReport(rows[0]!);
  }

  async get(id: string): Promise<Report | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM moderation_reports WHERE id = $1', [id]);
    return rows[0] && toReport(rows[0]);
  }

  /** Newest first; `before` is the id of the last report of the previous page. */
  async list(
    f: ReportFilter,
  ): Promise<{ reports: Report[]; page: { limit: number; hasMore: boolean; before: string | null } }> {
    const args = new SqlArgs();
    const where: string[] = [];
    if (f.status) where.push(`status = ${args.add(f.status)}`);
    if (f.reporter) where.push(`reporter = ${args.add(f.reporter)}`);
    if (f.reported) where.push(`reported_jid = ${args.add(f.reported)}`);
    const page = keysetSql('id', { before: f.before, limit: f.limit }, args);
    where.push(...page.where);
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM moderation_reports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${page.orderLimit}`,
      args.values,
    );
    const p = keysetPage(rows, f, page.forward, toReport, (r) => r.id, 'newest-first');
    return { reports: p.items, page: { limit: f.limit, hasMore: p.hasMore, before: p.before } };
  }

  /** undefined when there is no such report. Resolving again overwrites the verdict (an admin may change their mind). */
  async resolve(
    id: string,
    status: Exclude<ReportStatus, 'open'>,
    by: string,
    resolution?: string,
  ): Promise<Report | undefined> {
    const { rows } = await this.db.query<Row>(
      `UPDATE moderation_reports SET status = $2, resolved_by = $3, resolution = $4, resolved_at = now() WHERE id = $1 RETURNING *`,
      [id, status, by, resolution ?? null],
    );
    return rows[0] && toReport(rows[0]);
  }
}

function toReport(r: Row): Report {
  return {
    id: String(r.id),
    reporter: r.reporter,
    reported: r.reported_jid,
    reason: r.reason,
    text: r.text,
    messages: r.messages,
    blocked: r.blocked,
    serverReported: r.server_reported,
    status: r.status,
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
    resolvedAt: r.resolved_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
  };
}
