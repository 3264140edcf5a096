import type { Queryable } from '../store/db.js';

/**
 * What a live session is doing that the XMPP server forgets with the connection (rooms it is in, workgroups
 * it is on duty in), kept per feature and key in `session_memory`, so a session restored after a gateway
 * restart takes it up again. Rows go with the session when it ends (SessionStore.setState offline).
 */
export class SessionMemory<T> {
  constructor(
    private readonly db: Queryable,
    private readonly feature: string,
  ) {}

  async remember(streamId: string, key: string, value: T): Promise<void> {
    await this.db.query(
      `INSERT INTO session_memory (stream_id, feature, key, value) VALUES ($1, $2, $3, $4)
       ON CONFLICT (stream_id, feature, key) DO UPDATE SET value = EXCLUDED.value`,
      [streamId, this.feature, key, JSON.stringify(value)],
    );
  }

  async forget(streamId: string, key: string): Promise<void> {
    await this.db.query('DELETE FROM session_memory WHERE stream_id = $1 AND feature = $2 AND key = $3', [
      streamId,
      this.feature,
      key,
    ]);
  }

  async recall(streamId: string): Promise<{ key: string; value: T }[]> {
    const { rows } = await this.db.query<{ key: string; value: T }>(
      'SELECT key, value FROM session_memory WHERE stream_id = $1 AND feature = $2 ORDER BY key',
      [streamId, this.feature],
    );
    return rows;
  }
}
