import type { Queryable } from '../store/db.js';
import { BridgeError } from '../errors/BridgeError.js';
import type { Rejection, ServedRequest } from './queue.js';
import {
  toOffer,
  toRequest,
  type NewRequest,
  type OfferRow,
  type OfferStatus,
  type RequestRow,
  type RequestStatus,
} from './requestRows.js';

export {
  IN_CHAT,
  WAITING,
  type NewRequest,
  type OfferRow,
  type OfferStatus,
  type RequestRow,
  type RequestStatus,
} from './requestRows.js';

/**
 * Requests and offers. Every state change is one conditional UPDATE (`WHERE status = ANY(expected)`),
 * so a late timer or a duplicate answer finds nothing to change instead of undoing a newer decision.
 */
export class RequestStore {
  constructor(private readonly db: Queryable) {}

  /** Joins the queue at the end; 409 when this visitor (rest) or user session (xmpp) is already in one. */
  async insert(n: NewRequest): Promise<RequestRow> {
    try {
      const { rows } = await this.db.query(
        `INSERT INTO workgroup_requests (id, workgroup, kind, user_jid, user_id, email, question, metadata, token_hash, status, initial_position, joined_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued',
           (SELECT count(*) + 1 FROM workgroup_requests WHERE workgroup = $2 AND status IN ('queued', 'offered')), $10)
         RETURNING *`,
        [
          n.id,
          n.workgroup,
          n.kind,
          n.userJid,
          n.userId,
          n.email ?? null,
          n.question ?? null,
          n.metadata,
          n.tokenHash ?? null,
          n.joinedAt,
        ],
      );
      return toRequest(rows[0]!);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new BridgeError(
          'CONFLICT',
          n.kind === 'rest'
            ? `${n.userId} already has an open request; DELETE it first`
            : `${n.userJid} is already in the queue of ${n.workgroup}`,
        );
      }
      throw err;
    }
  }

  async get(id: string): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query('SELECT * FROM workgroup_requests WHERE id = $1', [id]);
    return rows[0] && toRequest(rows[0]);
  }

  async byToken(hash: Buffer): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query('SELECT * FROM workgroup_requests WHERE token_hash = $1', [hash]);
    return rows[0] && toRequest(rows[0]);
  }

  /** The newest rest request of a visitor name (an open one if there is one). */
  async latestOf(userId: string): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query(
      `SELECT * FROM workgroup_requests WHERE user_id = $1 AND kind = 'rest' ORDER BY seq DESC LIMIT 1`,
      [userId],
    );
    return rows[0] && toRequest(rows[0]);
  }

  /** The open xmpp request of a user session in a workgroup. */
  async waitingOfUser(workgroup: string, userJid: string): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query(
      `SELECT * FROM workgroup_requests WHERE workgroup = $1 AND user_jid = $2 AND status IN ('queued', 'offered')`,
      [workgroup, userJid],
    );
    return rows[0] && toRequest(rows[0]);
  }

  /** A waiting request's place in its queue (1 = next), or undefined once it left the queue; one count, not the queue. */
  async positionOf(id: string): Promise<number | undefined> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workgroup_requests w, workgroup_requests r
       WHERE r.id = $1 AND r.status IN ('queued', 'offered') AND w.workgroup = r.workgroup
         AND w.status IN ('queued', 'offered') AND w.seq <= r.seq`,
      [id],
    );
    const n = rows[0]?.n ?? 0;
    return n > 0 ? n : undefined;
  }

  async countWaiting(workgroup: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workgroup_requests WHERE workgroup = $1 AND status IN ('queued', 'offered')`,
      [workgroup],
    );
    return rows[0]?.n ?? 0;
  }

  /** Requests waiting in a workgroup, in queue order. */
  async waiting(workgroup: string): Promise<RequestRow[]> {
    const { rows } = await this.db.query(
      `SELECT * FROM workgroup_requests WHERE workgroup = $1 AND status IN ('queued', 'offered') ORDER BY seq`,
      [workgroup],
    );
    return rows.map(toRequest);
  }

  async withStatus(statuses: RequestStatus[]): Promise<RequestRow[]> {
    const { rows } = await this.db.query(
      'SELECT * FROM workgroup_requests WHERE status = ANY($1::text[]) ORDER BY seq',
      [statuses],
    );
    return rows.map(toRequest);
  }

  async inRoom(room: string): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query(
      `SELECT * FROM workgroup_requests WHERE room = $1 ORDER BY seq DESC LIMIT 1`,
      [room],
    );
    return rows[0] && toRequest(rows[0]);
  }

  /** Moves a request on if it is still in one of `from`; undefined when something else got there first. */
  async transition(
    id: string,
    from: RequestStatus[],
    to: RequestStatus,
    set: Partial<
      Pick<RequestRow, 'agentJid' | 'room' | 'endReason' | 'acceptedAt' | 'endedAt' | 'visitorJoined'>
    > = {},
  ): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query(
      `UPDATE workgroup_requests SET status = $3,
         agent_jid = coalesce($4, agent_jid), room = coalesce($5, room), end_reason = coalesce($6, end_reason),
         accepted_at = coalesce($7, accepted_at), ended_at = coalesce($8, ended_at), visitor_joined = coalesce($9, visitor_joined)
       WHERE id = $1 AND status = ANY($2::text[]) RETURNING *`,
      [
        id,
        from,
        to,
        set.agentJid ?? null,
        set.room ?? null,
        set.endReason ?? null,
        set.acceptedAt ?? null,
        set.endedAt ?? null,
        set.visitorJoined ?? null,
      ],
    );
    return rows[0] && toRequest(rows[0]);
  }

  async setVisitorJoined(id: string, joined: boolean): Promise<void> {
    await this.db.query('UPDATE workgroup_requests SET visitor_joined = $2 WHERE id = $1', [id, joined]);
  }

  /** Chats each agent of a workgroup is in (accepted and not ended). */
  async chatsByAgent(workgroup: string): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ agent_jid: string; n: string }>(
      `SELECT agent_jid, count(*) AS n FROM workgroup_requests WHERE workgroup = $1 AND status IN ('accepted', 'routed') GROUP BY agent_jid`,
      [workgroup],
    );
    return new Map(rows.map((r) => [r.agent_jid, Number(r.n)]));
  }

  /** Served requests of the last day (the newest 50): how long they waited from the place they joined at. */
  async served(workgroup: string, since: Date): Promise<ServedRequest[]> {
    const { rows } = await this.db.query<{ waited_ms: number; initial_position: number }>(
      `SELECT extract(epoch FROM accepted_at - joined_at) * 1000 AS waited_ms, initial_position FROM workgroup_requests
       WHERE workgroup = $1 AND accepted_at IS NOT NULL AND accepted_at > $2 ORDER BY accepted_at DESC LIMIT 50`,
      [workgroup, since],
    );
    return rows.map((r) => ({ waitedMs: Number(r.waited_ms), initialPosition: Number(r.initial_position) }));
  }

  // ---- offers -------------------------------------------------------------------------------------

  async insertOffer(o: Omit<OfferRow, 'status' | 'reason' | 'answeredAt'>): Promise<void> {
    await this.db.query(
      `INSERT INTO workgroup_offers (id, request_id, workgroup, agent_jid, agent_full, status, offered_at, expires_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)`,
      [o.id, o.requestId, o.workgroup, o.agentJid, o.agentFull, o.offeredAt, o.expiresAt],
    );
  }

  async offer(id: string): Promise<OfferRow | undefined> {
    const { rows } = await this.db.query('SELECT * FROM workgroup_offers WHERE id = $1', [id]);
    return rows[0] && toOffer(rows[0]);
  }

  /** The newest offer of `userJid`'s request to this agent (XEP-0142 answers name the user, not the offer). */
  async offerFor(workgroup: string, agentJid: string, userJid: string): Promise<OfferRow | undefined> {
    const { rows } = await this.db.query(
      `SELECT o.* FROM workgroup_offers o JOIN workgroup_requests r ON r.id = o.request_id
       WHERE o.workgroup = $1 AND o.agent_jid = $2 AND r.user_jid = $3 ORDER BY o.offered_at DESC LIMIT 1`,
      [workgroup, agentJid, userJid],
    );
    return rows[0] && toOffer(rows[0]);
  }

  async pendingOffers(workgroup?: string): Promise<OfferRow[]> {
    const { rows } = await this.db.query(
      `SELECT * FROM workgroup_offers WHERE status = 'pending' AND ($1::text IS NULL OR workgroup = $1) ORDER BY offered_at`,
      [workgroup ?? null],
    );
    return rows.map(toOffer);
  }

  /** Answers a pending offer; undefined when it was no longer pending. */
  async closeOffer(
    id: string,
    status: Exclude<OfferStatus, 'pending'>,
    at: Date,
    reason?: string,
  ): Promise<OfferRow | undefined> {
    const { rows } = await this.db.query(
      `UPDATE workgroup_offers SET status = $2, answered_at = $3, reason = $4 WHERE id = $1 AND status = 'pending' RETURNING *`,
      [id, status, at, reason ?? null],
    );
    return rows[0] && toOffer(rows[0]);
  }

  /** Rejections and time-outs since `since`: who not to offer a request again yet. */
  async rejections(workgroup: string, since: Date): Promise<Rejection[]> {
    const { rows } = await this.db.query<{ request_id: string; agent_jid: string; answered_at: Date }>(
      `SELECT request_id, agent_jid, answered_at FROM workgroup_offers
       WHERE workgroup = $1 AND status IN ('rejected', 'timeout') AND answered_at > $2`,
      [workgroup, since],
    );
    return rows.map((r) => ({ requestId: r.request_id, agent: r.agent_jid, at: r.answered_at.getTime() }));
  }

  /** The accepted offer of a request (for a revoke after accept). */
  async acceptedOffer(requestId: string): Promise<OfferRow | undefined> {
    const { rows } = await this.db.query(
      `SELECT * FROM workgroup_offers WHERE request_id = $1 AND status = 'accepted' ORDER BY offered_at DESC LIMIT 1`,
      [requestId],
    );
    return rows[0] && toOffer(rows[0]);
  }
}
