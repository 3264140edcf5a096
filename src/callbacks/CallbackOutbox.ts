import type { Pool, Queryable } from '../store/db.js';

/** A callback to send, as the feature that caused it describes it (see 0006_bbb.sql for the columns). */
export interface NewCallback {
  orderingKey: string;
  url: string;
  scheme: string;
  salt: string;
  /** signed in this key order */
  params: Record<string, string>;
  secretEnc: string;
  idempotencyKey: string;
}

export interface ClaimedCallback {
  id: string;
  url: string;
  scheme: string;
  salt: string;
  params: Record<string, string>;
  secretEnc: string | null;
  idempotencyKey: string;
  attempts: number;
  giveUpAt: Date;
}

export interface DeadLetter {
  id: string;
  orderingKey: string;
  url: string;
  idempotencyKey: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deadAt: string;
  params: Record<string, string>;
}

/**
 * The callback outbox table. Claiming takes, per ordering key, only the oldest pending row, and only
 * when it is due and not leased: that is what keeps delivery in order per meeting, and the lease (with
 * the row lock of the UPDATE) keeps two gateway instances from sending the same row at once.
 */
export class CallbackOutbox {
  constructor(private readonly deps: { db: Pool; horizonSeconds: number; instanceId: string }) {}

  /** Inside the caller's transaction; false when this idempotency key is already queued (a duplicate event). */
  async enqueue(tx: Queryable, c: NewCallback): Promise<boolean> {
    const res = await tx.query(
      `INSERT INTO callback_outbox (ordering_key, url, scheme, salt, params, secret_enc, idempotency_key, give_up_at)
       VALUES ($1, $2, $3, $4, $5::json, $6, $7, now() + make_interval(secs => $8))
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        c.orderingKey,
        c.url,
        c.scheme,
        c.salt,
        JSON.stringify(c.params),
        c.secretEnc,
        c.idempotencyKey,
        this.deps.horizonSeconds,
      ],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async claim(limit: number, leaseSeconds: number): Promise<ClaimedCallback[]> {
    const { rows } = await this.deps.db.query<{
      id: string;
      url: string;
      scheme: string;
      salt: string;
      params: string;
      secret_enc: string | null;
      idempotency_key: string;
      attempts: number;
      give_up_at: Date;
    }>(
      `WITH heads AS (
         SELECT DISTINCT ON (ordering_key) id, next_attempt_at, lease_until
         FROM callback_outbox WHERE status = 'pending' ORDER BY ordering_key, id
       ), due AS (
         SELECT id FROM heads WHERE next_attempt_at <= now() AND (lease_until IS NULL OR lease_until <= now())
         ORDER BY next_attempt_at LIMIT $1
       )
       UPDATE callback_outbox o
          SET lease_until = now() + make_interval(secs => $2), leased_by = $3, attempts = o.attempts + 1,
              -- a replayed row (no give_up_at; or attempts reset after a failure, as the CLI does) gets a fresh horizon
              give_up_at = CASE WHEN o.give_up_at IS NULL OR (o.attempts = 0 AND o.last_error IS NOT NULL)
                                THEN now() + make_interval(secs => $4) ELSE o.give_up_at END
         FROM due
        WHERE o.id = due.id AND o.status = 'pending' AND (o.lease_until IS NULL OR o.lease_until <= now())
       RETURNING o.id, o.url, o.scheme, o.salt, o.params::text AS params, o.secret_enc, o.idempotency_key, o.attempts, o.give_up_at`,
      [limit, leaseSeconds, this.deps.instanceId, this.deps.horizonSeconds],
    );
    return rows.map((r) => ({
      id: String(r.id),
      url: r.url,
      scheme: r.scheme,
      salt: r.salt,
      params: JSON.parse(r.params) as Record<string, string>,
      secretEnc: r.secret_enc,
      idempotencyKey: r.idempotency_key,
      attempts: r.attempts,
      giveUpAt: r.give_up_at,
    }));
  }

  async delivered(id: string, status: number | undefined): Promise<void> {
    await this.deps.db.query(
      `UPDATE callback_outbox SET status = 'delivered', delivered_at = now(), lease_until = NULL, leased_by = NULL,
         secret_enc = NULL, last_status = $2, last_error = NULL WHERE id = $1`,
      [id, status ?? null],
    );
  }

  async failed(
    id: string,
    result: { status?: number; error?: string },
    next: { state: 'pending'; at: Date } | { state: 'dead' },
  ): Promise<void> {
    await this.deps.db.query(
      `UPDATE callback_outbox SET lease_until = NULL, leased_by = NULL, last_status = $2, last_error = $3, status = $4::text,
         next_attempt_at = coalesce($5::timestamptz, next_attempt_at), dead_at = CASE WHEN $4::text = 'dead' THEN now() END
       WHERE id = $1`,
      [
        id,
        result.status ?? null,
        result.error?.slice(0, 500) ?? null,
        next.state,
        next.state === 'pending' ? next.at : null,
      ],
    );
  }

  /** After a crash and restart under the same instance id, its in-flight attempts are known to be over. */
  async releaseOwnLeases(): Promise<void> {
    await this.deps.db.query(
      `UPDATE callback_outbox SET lease_until = NULL, leased_by = NULL WHERE status = 'pending' AND leased_by = $1`,
      [this.deps.instanceId],
    );
  }

  listDead(o: DeadLetterQuery): Promise<DeadLetter[]> {
    return listDeadCallbacks(this.deps.db, o);
  }

  replay(o: { id?: string; orderingKey?: string }): Promise<number> {
    return replayDeadCallbacks(this.deps.db, o);
  }
}

/*
 * The read and admin queries below need no instance identity or retry horizon, so they also serve the
 * metrics probe and `parley callbacks --db` (which has no gateway) straight from a pool.
 */

export interface DeadLetterQuery {
  orderingKey?: string;
  limit: number;
  afterId?: string;
}

export interface OutboxStats {
  /** rows still to be delivered */
  depth: number;
  /** seconds since the oldest of them was queued (0 when none) */
  oldestAgeSeconds: number;
  dead: number;
}

export async function outboxStats(db: Queryable): Promise<OutboxStats> {
  const { rows } = await db.query<{ depth: string; dead: string; age: string }>(
    `SELECT count(*) FILTER (WHERE status = 'pending') AS depth, count(*) FILTER (WHERE status = 'dead') AS dead,
            coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending')), 0) AS age
       FROM callback_outbox`,
  );
  const r = rows[0];
  return { depth: Number(r?.depth ?? 0), dead: Number(r?.dead ?? 0), oldestAgeSeconds: Number(r?.age ?? 0) };
}

export async function listDeadCallbacks(db: Queryable, o: DeadLetterQuery): Promise<DeadLetter[]> {
  const { rows } = await db.query<{
    id: string;
    ordering_key: string;
    url: string;
    idempotency_key: string;
    attempts: number;
    last_status: number | null;
    last_error: string | null;
    created_at: Date;
    dead_at: Date;
    params: string;
  }>(
    `SELECT id, ordering_key, url, idempotency_key, attempts, last_status, last_error, created_at, dead_at, params::text AS params
     FROM callback_outbox WHERE status = 'dead' AND ($1::text IS NULL OR ordering_key = $1) AND id > coalesce($2::bigint, 0)
     ORDER BY id LIMIT $3`,
    [o.orderingKey ?? null, o.afterId ?? null, o.limit],
  );
  return rows.map((r) => ({
    id: String(r.id),
    orderingKey: r.ordering_key,
    url: r.url,
    idempotencyKey: r.idempotency_key,
    attempts: r.attempts,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    deadAt: r.dead_at.toISOString(),
    params: JSON.parse(r.params) as Record<string, string>,
  }));
}

/**
 * Back to pending, due now, with a fresh horizon from its next attempt. Older ids go first again per
 * ordering key, so a replay restores the order it can.
 */
export async function replayDeadCallbacks(
  db: Queryable,
  o: { id?: string; orderingKey?: string },
): Promise<number> {
  const res = await db.query(
    `UPDATE callback_outbox SET status = 'pending', dead_at = NULL, attempts = 0, next_attempt_at = now(), give_up_at = NULL
     WHERE status = 'dead' AND ($1::bigint IS NULL OR id = $1) AND ($2::text IS NULL OR ordering_key = $2)`,
    [o.id ?? null, o.orderingKey ?? null],
  );
  return res.rowCount ?? 0;
}
