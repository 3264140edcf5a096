import type { Queryable } from '../store/db.js';
import type { SessionState } from '../xmpp/client/UserSession.js';

export interface TokenOwner {
  streamId: string;
  username: string;
  ended: boolean;
  /** when the token was issued: it stops working PARLEY_TOKEN_TTL_SECONDS later, live session or not */
  issuedAt: Date;
}
export interface Account {
  username: string;
  jid: string;
  passwordEnc: string;
}
/** A session left live by an earlier run of this instance; `credentialEnc` is its sealed password (see 0012). */
export interface LiveSessionRow {
  streamId: string;
  username: string;
  jid: string;
  credentialEnc: string | null;
}

/** Sessions, their hashed tokens and the accounts Parley provisioned. */
export interface SessionStore {
  createSession(s: {
    streamId: string;
    username: string;
    jid: string;
    instanceId: string;
    credentialEnc?: string;
    /** the login's first token, stored in the same statement (one round trip per login fewer) */
    tokenHash?: Buffer;
  }): Promise<void>;
  /** Offline ends the session: its sealed password and its session memory go with it. */
  setState(streamId: string, state: Exclude<SessionState, 'connecting'>): Promise<void>;
  setCredential(streamId: string, credentialEnc: string | null): Promise<void>;
  addToken(streamId: string, tokenHash: Buffer): Promise<void>;
  tokenOwner(tokenHash: Buffer): Promise<TokenOwner | undefined>;
  /** Sessions a previous run of this instance left open cannot be live any more. */
  endOrphans(instanceId: string): Promise<number>;
  /** Sessions an earlier run of this instance left live (stopped for a restart, or crashed), claimed now. */
  liveSessions(instanceId: string): Promise<LiveSessionRow[]>;
  /**
   * Takes over the live sessions of instances that stopped beating (or left) `staleSeconds` ago and that
   * nobody claimed since: a cluster peer brings them back as a restart would.
   */
  adoptOrphans(instanceId: string, staleSeconds: number): Promise<LiveSessionRow[]>;
  getAccount(username: string): Promise<Account | undefined>;
  saveAccount(a: Account): Promise<void>;
}

/**
 * A session claimed this recently (login, restore, adoption) is not adopted: covers an instance restarting at
 * the moment a peer looks, whose claim lands while the peer's statement runs (row locks serialise the two, and
 * the peer re-checks this column on the claimed row).
 */
const CLAIM_GUARD_SECONDS = 5;

type LiveRow = { stream_id: string; username: string; jid: string; credential_enc: string | null };
const liveRow = (r: LiveRow): LiveSessionRow => ({
  streamId: r.stream_id,
  username: r.username,
  jid: r.jid,
  credentialEnc: r.credential_enc,
});

export function createPgSessionStore(db: Queryable): SessionStore {
  return {
    async createSession({ streamId, username, jid, instanceId, credentialEnc, tokenHash }) {
      const session = `INSERT INTO sessions (stream_id, username, jid, instance_id, state, credential_enc)
                       VALUES ($1, $2, $3, $4, 'online', $5)`;
      const values = [streamId, username, jid, instanceId, credentialEnc ?? null];
      if (!tokenHash) {
        await db.query(session, values);
        return;
      }
      // The token's foreign key is checked at the end of the statement, when the session row exists.
      await db.query(
        `WITH s AS (${session}) INSERT INTO session_tokens (token_hash, stream_id) VALUES ($6, $1)`,
        [...values, tokenHash],
      );
    },
    async setState(streamId, state) {
      if (state !== 'offline') {
        await db.query('UPDATE sessions SET state = $2 WHERE stream_id = $1', [streamId, state]);
        return;
      }
      await db.query(
        `WITH memory AS (DELETE FROM session_memory WHERE stream_id = $1)
                      UPDATE sessions SET state = 'offline', ended_at = now(), credential_enc = NULL WHERE stream_id = $1`,
        [streamId],
      );
    },
    async setCredential(streamId, credentialEnc) {
      await db.query('UPDATE sessions SET credential_enc = $2 WHERE stream_id = $1', [
        streamId,
        credentialEnc,
      ]);
    },
    async addToken(streamId, tokenHash) {
      await db.query('INSERT INTO session_tokens (token_hash, stream_id) VALUES ($1, $2)', [
        tokenHash,
        streamId,
      ]);
    },
    async tokenOwner(tokenHash) {
      const { rows } = await db.query<{
        stream_id: string;
        username: string;
        ended: boolean;
        created_at: Date;
      }>(
        `SELECT t.stream_id, s.username, s.ended_at IS NOT NULL AS ended, t.created_at
           FROM session_tokens t JOIN sessions s USING (stream_id) WHERE t.token_hash = $1`,
        [tokenHash],
      );
      const r = rows[0];
      return r && { streamId: r.stream_id, username: r.username, ended: r.ended, issuedAt: r.created_at };
    },
    async endOrphans(instanceId) {
      const res = await db.query(
        `WITH ended AS (
                                    UPDATE sessions SET state = 'offline', ended_at = now(), credential_enc = NULL
                                     WHERE instance_id = $1 AND ended_at IS NULL RETURNING stream_id),
                                  memory AS (DELETE FROM session_memory WHERE stream_id IN (SELECT stream_id FROM ended))
                                  SELECT count(*)::int AS n FROM ended`,
        [instanceId],
      );
      return (res.rows[0] as { n: number } | undefined)?.n ?? 0;
    },
    async liveSessions(instanceId) {
      const { rows } = await db.query<LiveRow>(
        // Beating in the same statement: a peer that looks now sees this instance alive and leaves them.
        `WITH beat AS (UPDATE instances SET heartbeat_at = now() WHERE id = $1)
         UPDATE sessions SET claimed_at = now() WHERE instance_id = $1 AND ended_at IS NULL
         RETURNING stream_id, username, jid, credential_enc`,
        [instanceId],
      );
      return rows.map(liveRow);
    },
    async adoptOrphans(instanceId, staleSeconds) {
      const { rows } = await db.query<LiveRow>(
        `UPDATE sessions s SET instance_id = $1, claimed_at = now()
          WHERE s.ended_at IS NULL AND s.instance_id <> $1 AND s.claimed_at < now() - interval '${CLAIM_GUARD_SECONDS} seconds'
            AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = s.instance_id AND i.heartbeat_at >= now() - make_interval(secs => $2))
         RETURNING s.stream_id, s.username, s.jid, s.credential_enc`,
        [instanceId, staleSeconds],
      );
      return rows.map(liveRow);
    },
    async getAccount(username) {
      const { rows } = await db.query<{ username: string; jid: string; password_enc: string }>(
        'SELECT username, jid, password_enc FROM accounts WHERE username = $1',
        [username],
      );
      const r = rows[0];
      return r && { username: r.username, jid: r.jid, passwordEnc: r.password_enc };
    },
    async saveAccount(a) {
      await db.query(
        `INSERT INTO accounts (username, jid, password_enc) VALUES ($1, $2, $3)
                      ON CONFLICT (username) DO UPDATE SET password_enc = EXCLUDED.password_enc`,
        [a.username, a.jid, a.passwordEnc],
      );
    },
  };
}
