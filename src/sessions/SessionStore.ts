import type { Queryable } from '../store/db.js';
import type { SessionState } from '../xmpp/client/UserSession.js';

export interface TokenOwner { streamId: string; username: string; ended: boolean }
export interface Account { username: string; jid: string; passwordEnc: string }

/** Sessions, their hashed tokens and the accounts Parley provisioned. */
export interface SessionStore {
  createSession(s: { streamId: string; username: string; jid: string; instanceId: string }): Promise<void>;
  setState(streamId: string, state: Exclude<SessionState, 'connecting'>): Promise<void>;
  addToken(streamId: string, tokenHash: Buffer): Promise<void>;
  tokenOwner(tokenHash: Buffer): Promise<TokenOwner | undefined>;
  /** Sessions a previous run of this instance left open cannot be live any more. */
  endOrphans(instanceId: string): Promise<number>;
  getAccount(username: string): Promise<Account | undefined>;
  saveAccount(a: Account): Promise<void>;
}

export function createPgSessionStore(db: Queryable): SessionStore {
  return {
    async createSession({ streamId, username, jid, instanceId }) {
      await db.query(`INSERT INTO sessions (stream_id, username, jid, instance_id, state) VALUES ($1, $2, $3, $4, 'online')`,
        [streamId, username, jid, instanceId]);
    },
    async setState(streamId, state) {
      await db.query(`UPDATE sessions SET state = $2, ended_at = CASE WHEN $2 = 'offline' THEN now() END WHERE stream_id = $1`,
        [streamId, state]);
    },
    async addToken(streamId, tokenHash) {
      await db.query('INSERT INTO session_tokens (token_hash, stream_id) VALUES ($1, $2)', [tokenHash, streamId]);
    },
    async tokenOwner(tokenHash) {
      const { rows } = await db.query<{ stream_id: string; username: string; ended: boolean }>(
        `SELECT t.stream_id, s.username, s.ended_at IS NOT NULL AS ended
           FROM session_tokens t JOIN sessions s USING (stream_id) WHERE t.token_hash = $1`, [tokenHash]);
      const r = rows[0];
      return r && { streamId: r.stream_id, username: r.username, ended: r.ended };
    },
    async endOrphans(instanceId) {
      const res = await db.query(`UPDATE sessions SET state = 'offline', ended_at = now() WHERE instance_id = $1 AND ended_at IS NULL`, [instanceId]);
      return res.rowCount ?? 0;
    },
    async getAccount(username) {
      const { rows } = await db.query<{ username: string; jid: string; password_enc: string }>(
        'SELECT username, jid, password_enc FROM accounts WHERE username = $1', [username]);
      const r = rows[0];
      return r && { username: r.username, jid: r.jid, passwordEnc: r.password_enc };
    },
    async saveAccount(a) {
      await db.query(`INSERT INTO accounts (username, jid, password_enc) VALUES ($1, $2, $3)
                      ON CONFLICT (username) DO UPDATE SET password_enc = EXCLUDED.password_enc`, [a.username, a.jid, a.passwordEnc]);
    },
  };
}
