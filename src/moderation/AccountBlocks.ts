import type { Queryable } from '../store/db.js';

export type BlockKind = 'disabled' | 'muted';
export interface AccountBlock {
  username: string;
  kind: BlockKind;
  reason: string | null;
  createdBy: string;
  createdAt: string;
}

/** moderation_account_blocks: the Parley-side ACL (see 0010_moderation.sql for what each kind stops). */
export class AccountBlocks {
  constructor(private readonly db: Queryable) {}

  /** Whether the account has any of these blocks (AccountPolicy asks while its memory is not to be trusted). */
  async has(username: string, ...kinds: BlockKind[]): Promise<boolean> {
    const { rowCount } = await this.db.query({
      name: 'acl-has',
      text: 'SELECT 1 FROM moderation_account_blocks WHERE username = $1 AND kind = ANY($2::text[]) LIMIT 1',
      values: [username, kinds],
    });
    return (rowCount ?? 0) > 0;
  }

  /** Every block, for the in-memory ACL (AccountPolicy): a small table, read whole. */
  async all(): Promise<Array<{ username: string; kind: BlockKind }>> {
    const { rows } = await this.db.query<{ username: string; kind: BlockKind }>({
      name: 'acl-all',
      text: 'SELECT username, kind FROM moderation_account_blocks',
    });
    return rows;
  }

  async of(username: string): Promise<AccountBlock[]> {
    const { rows } = await this.db.query<{
      username: string;
      kind: BlockKind;
      reason: string | null;
      created_by: string;
      created_at: Date;
    }>('SELECT * FROM moderation_account_blocks WHERE username = $1 ORDER BY kind', [username]);
    return rows.map((r) => ({
      username: r.username,
      kind: r.kind,
      reason: r.reason,
      createdBy: r.created_by,
      createdAt: r.created_at.toISOString(),
    }));
  }

  /** true when the block is new (setting it again keeps the first reason and author). */
  async add(username: string, kind: BlockKind, by: string, reason?: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO moderation_account_blocks (username, kind, reason, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [username, kind, reason ?? null, by],
    );
    return (rowCount ?? 0) > 0;
  }

  async remove(username: string, kind: BlockKind): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'DELETE FROM moderation_account_blocks WHERE username = $1 AND kind = $2',
      [username, kind],
    );
    return (rowCount ?? 0) > 0;
  }
}
