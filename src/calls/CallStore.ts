import type pg from 'pg';
import { withTransaction, type Pool } from '../store/db.js';
import { keysetPage, keysetSql, SqlArgs } from '../store/cursorPage.js';
import { withEnvelope } from '../sse/EventHub.js';
import type { EventStore } from '../messages/EventStore.js';
import { EVENT_NAMES, type DeliveredEvent, type Payload } from '../sse/events.js';
import type { Call, CallOptions, CallOutcome, CallState } from './types.js';

export type NewCall = Omit<
  Call,
  'state' | 'outcome' | 'reason' | 'condition' | 'answeredBy' | 'createdAt' | 'answeredAt' | 'endedAt'
> & { state?: CallState; outcome?: CallOutcome; createdAt?: Date };

export interface CallPatch {
  state: CallState;
  outcome?: CallOutcome;
  reason?: string;
  condition?: string;
  answeredBy?: string;
  /** stamp `answered` / `ended` with now() */
  answered?: boolean;
  ended?: boolean;
}

/** The row and its `chatapi.call` event, written together; the caller delivers `event` after COMMIT. */
export interface Written {
  call: Call;
  event: DeliveredEvent;
}
type EventOf = (call: Call) => Payload;
/** Runs after the rows are written and before COMMIT (sending the stanza): throwing undoes the change. */
type BeforeCommit = (call: Call) => Promise<void>;

export interface HistoryQuery {
  owner: string;
  peer?: string;
  active?: boolean;
  before?: string;
  after?: string;
  limit: number;
}
export interface HistoryPage {
  calls: Call[];
  hasMore: boolean;
  before: string | null;
  after: string | null;
}

interface Row {
  seq: string;
  owner: string;
  id: string;
  direction: 'in' | 'out';
  caller: string;
  callee: string;
  peer: string;
  options: CallOptions;
  state: CallState;
  outcome: CallOutcome | null;
  reason: string | null;
  condition: string | null;
  answered_by: string | null;
  created: Date;
  answered: Date | null;
  ended: Date | null;
}

const toCall = (r: Row): Call => ({
  owner: r.owner,
  callId: r.id,
  direction: r.direction,
  caller: r.caller,
  callee: r.callee,
  peer: r.peer,
  options: r.options,
  state: r.state,
  outcome: r.outcome,
  reason: r.reason,
  condition: r.condition,
  answeredBy: r.answered_by,
  createdAt: r.created,
  answeredAt: r.answered,
  endedAt: r.ended,
});

/** Call history rows (table `calls`, one per owner and call id), each change stored with its event. */
export class CallStore {
  constructor(private readonly deps: { db: Pool; events: EventStore }) {}

  async get(owner: string, callId: string): Promise<Call | undefined> {
    const { rows } = await this.deps.db.query<Row>('SELECT * FROM calls WHERE owner = $1 AND id = $2', [
      owner,
      callId,
    ]);
    return rows[0] && toCall(rows[0]);
  }

  /** Inserts a call; undefined when the owner already has one with this id (a carbon or a re-delivery). */
  async create(c: NewCall, eventOf: EventOf, beforeCommit?: BeforeCommit): Promise<Written | undefined> {
    return withTransaction(this.deps.db, async (tx) => {
      const ended = c.state === 'ended';
      const { rows } = await tx.query<Row>(
        `INSERT INTO calls (owner, id, direction, caller, callee, peer, options, state, outcome, created, ended)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, now()), CASE WHEN $11::boolean THEN now() END)
         ON CONFLICT (owner, id) DO NOTHING RETURNING *`,
        [
          c.owner,
          c.callId,
          c.direction,
          c.caller,
          c.callee,
          c.peer,
          JSON.stringify(c.options),
          c.state ?? 'proposed',
          c.outcome ?? null,
          c.createdAt ?? null,
          ended,
        ],
      );
      return rows[0] ? this.#finish(tx, toCall(rows[0]), eventOf, beforeCommit) : undefined;
    });
  }

  /** Moves a call on from state `from`; undefined when it is no longer in that state (someone was faster). */
  async update(
    owner: string,
    callId: string,
    from: CallState,
    p: CallPatch,
    eventOf: EventOf,
    beforeCommit?: BeforeCommit,
  ): Promise<Written | undefined> {
    return withTransaction(this.deps.db, async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE calls SET state = $4, outcome = $5, reason = coalesce($6, reason), condition = coalesce($7, condition),
           answered_by = coalesce($8, answered_by),
           answered = CASE WHEN $9::boolean THEN now() ELSE answered END, ended = CASE WHEN $10::boolean THEN now() ELSE ended END
         WHERE owner = $1 AND id = $2 AND state = $3 RETURNING *`,
        [
          owner,
          callId,
          from,
          p.state,
          p.outcome ?? null,
          p.reason ?? null,
          p.condition ?? null,
          p.answeredBy ?? null,
          p.answered ?? false,
          p.ended ?? false,
        ],
      );
      return rows[0] ? this.#finish(tx, toCall(rows[0]), eventOf, beforeCommit) : undefined;
    });
  }

  async #finish(
    tx: pg.PoolClient,
    call: Call,
    eventOf: EventOf,
    beforeCommit?: BeforeCommit,
  ): Promise<Written> {
    const stored = await this.deps.events.insert(call.owner, EVENT_NAMES.call, eventOf(call), tx);
    await beforeCommit?.(call);
    return { call, event: withEnvelope(stored) };
  }

  /** Calls still unanswered that were created before `cutoff` (their ring timer was lost, e.g. in a restart). */
  async unansweredBefore(cutoff: Date, limit = 500): Promise<Call[]> {
    const { rows } = await this.deps.db.query<Row>(
      `SELECT * FROM calls WHERE state IN ('proposed', 'ringing') AND created < $1 ORDER BY created LIMIT $2`,
      [cutoff, limit],
    );
    return rows.map(toCall);
  }

  /** A page of the owner's calls, oldest first within the page; without `after`, the newest page. */
  async history(q: HistoryQuery): Promise<HistoryPage> {
    const args = new SqlArgs([q.owner]);
    const where = ['owner = $1'];
    if (q.peer) where.push(`peer = ${args.add(q.peer)}`);
    if (q.active) where.push(`state <> 'ended'`);
    // Without `after`, the newest page (walking back with `before`); with it, forward from the cursor.
    const page = keysetSql('seq', q, args, { forwardWhenBoth: true });
    const { rows } = await this.deps.db.query<Row>(
      `SELECT * FROM calls WHERE ${[...where, ...page.where].join(' AND ')} ${page.orderLimit}`,
      args.values,
    );
    const p = keysetPage(
      rows,
      q,
      page.forward,
      (r) => r,
      (r) => String(r.seq),
    );
    return { calls: p.items.map(toCall), hasMore: p.hasMore, before: p.before, after: p.after };
  }
}
