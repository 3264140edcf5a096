/**
 * Keyset pagination, the one way every history in Parley pages (chat, rooms, admin views, reports,
 * audit, calls, attachments). A cursor is the key (a bigint row or event id) of the item at the edge
 * of the previous page, handed to clients as a decimal string (checked at the edge by parseEventId). A page asks for `limit + 1` rows: the
 * extra one only says whether there is more. The SQL of each table stays with its owner; this builds
 * the cursor conditions, the order and the limit, and turns the rows into a page.
 */
export interface PageRequest {
  /** items older than this cursor (a smaller key) */
  before?: string;
  /** items newer than this cursor (a larger key) */
  after?: string;
  limit: number;
}

export interface KeysetPage<T> {
  items: T[];
  hasMore: boolean;
  /** the cursor of the oldest item on the page (ask `before` it for the previous page), null when empty */
  before: string | null;
  /** the cursor of the newest item on the page, null when empty */
  after: string | null;
}

/** `$n` placeholders in the order values are added. */
export class SqlArgs {
  readonly values: unknown[];
  constructor(initial: readonly unknown[] = []) {
    this.values = [...initial];
  }
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

export interface KeysetOptions {
  /**
   * When both cursors are given: walk forward from `after` (true) or back from `before` (false).
   * Histories differ here and clients rely on it, so each says which.
   */
  forwardWhenBoth?: boolean;
}

export interface KeysetSql {
  /** conditions to AND into the WHERE clause */
  where: string[];
  /** `ORDER BY key … LIMIT $n` */
  orderLimit: string;
  /** oldest first from `after`; otherwise the newest first, back from `before` (or from the top) */
  forward: boolean;
}

/** The cursor conditions, order and limit (+1) for key column `key`. */
export function keysetSql(key: string, req: PageRequest, args: SqlArgs, opts: KeysetOptions = {}): KeysetSql {
  const forward = req.after !== undefined && (req.before === undefined || !!opts.forwardWhenBoth);
  const where: string[] = [];
  if (req.after !== undefined) where.push(`${key} > ${args.add(req.after)}`);
  if (req.before !== undefined) where.push(`${key} < ${args.add(req.before)}`);
  return {
    where,
    orderLimit: `ORDER BY ${key} ${forward ? 'ASC' : 'DESC'} LIMIT ${args.add(req.limit + 1)}`,
    forward,
  };
}

/**
 * The page of `rows` (read in the order keysetSql gave): at most `limit` items, oldest first when
 * `chronological`, else newest first (lists that only ever walk back, such as reports and the audit log).
 */
export function keysetPage<R, T>(
  rows: readonly R[],
  req: Pick<PageRequest, 'limit'>,
  forward: boolean,
  map: (row: R) => T,
  cursorOf: (item: T) => string,
  order: 'chronological' | 'newest-first' = 'chronological',
): KeysetPage<T> {
  const hasMore = rows.length > req.limit;
  const kept = rows.slice(0, req.limit);
  const oldestFirst = forward ? kept : [...kept].reverse();
  const items = (order === 'chronological' ? oldestFirst : [...oldestFirst].reverse()).map(map);
  const oldest = order === 'chronological' ? items[0] : items.at(-1);
  const newest = order === 'chronological' ? items.at(-1) : items[0];
  return {
    items,
    hasMore,
    before: oldest === undefined ? null : cursorOf(oldest),
    after: newest === undefined ? null : cursorOf(newest),
  };
}
