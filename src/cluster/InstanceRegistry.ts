import type { Log } from '../log.js';
import type { Queryable } from '../store/db.js';

/**
 * Which gateway instances are alive and how to reach them. Each instance upserts its row every few
 * seconds; a row older than `staleAfterMs` means that instance is gone, so its sessions are ended
 * and whoever asks may open new ones.
 */
export interface InstanceInfo {
  id: string;
  url: string;
}
/** A live session held by another instance. */
export interface RemoteSession {
  streamId: string;
  username: string;
  jid: string;
  state: string;
  instance: InstanceInfo;
}

export class InstanceRegistry {
  #timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly deps: {
      db: Queryable;
      self: InstanceInfo;
      log: Log;
      beatMs?: number;
      staleAfterMs?: number;
      /** takes over the live sessions of instances that stopped beating this many seconds ago */
      adopt?: (staleSeconds: number) => Promise<unknown>;
    },
  ) {}

  get self(): InstanceInfo {
    return this.deps.self;
  }
  get staleAfterMs(): number {
    return this.deps.staleAfterMs ?? 15_000;
  }

  async start(): Promise<void> {
    await this.beat();
    this.#timer = setInterval(
      () => void this.beat().catch((err) => this.deps.log.warn({ err }, 'instance heartbeat failed')),
      this.deps.beatMs ?? 3000,
    );
    this.#timer.unref();
  }

  async beat(): Promise<void> {
    await this.deps.db.query(
      `INSERT INTO instances (id, url, heartbeat_at) VALUES ($1, $2, now())
       ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, heartbeat_at = now()`,
      [this.deps.self.id, this.deps.self.url],
    );
    // Sessions held by instances that stopped beating: brought back here when sessions survive restarts
    // (PARLEY_SESSION_RESTORE), otherwise over (their XMPP connections died with them).
    if (this.deps.adopt) {
      await this.deps.adopt(this.staleAfterMs / 1000);
      return;
    }
    await this.deps.db.query(
      `UPDATE sessions s SET state = 'offline', ended_at = now()
         FROM instances i WHERE s.instance_id = i.id AND s.ended_at IS NULL AND i.id <> $1
          AND i.heartbeat_at < now() - make_interval(secs => $2)`,
      [this.deps.self.id, this.staleAfterMs / 1000],
    );
  }

  /** The live instance holding `streamId`, if another one does. */
  async ownerOfStream(streamId: string): Promise<InstanceInfo | undefined> {
    return this.#owner('s.stream_id = $1', streamId);
  }

  /** The live instance holding a session of `username`, if another one does. */
  async ownerOfUser(username: string): Promise<InstanceInfo | undefined> {
    return this.#owner('s.username = $1', username);
  }

  async #owner(where: string, value: string): Promise<InstanceInfo | undefined> {
    return (await this.#remote(where, value))?.instance;
  }

  remoteStream(streamId: string): Promise<RemoteSession | undefined> {
    return this.#remote('s.stream_id = $1', streamId);
  }
  remoteUser(username: string): Promise<RemoteSession | undefined> {
    return this.#remote('s.username = $1', username);
  }

  async #remote(where: string, value: string): Promise<RemoteSession | undefined> {
    const { rows } = await this.deps.db.query<{
      id: string;
      url: string;
      stream_id: string;
      username: string;
      jid: string;
      state: string;
    }>(
      `SELECT i.id, i.url, s.stream_id, s.username, s.jid, s.state FROM sessions s JOIN instances i ON i.id = s.instance_id
        WHERE ${where} AND s.ended_at IS NULL AND i.id <> $2 AND i.heartbeat_at >= now() - make_interval(secs => $3)
        ORDER BY s.created_at DESC LIMIT 1`,
      [value, this.deps.self.id, this.staleAfterMs / 1000],
    );
    const r = rows[0];
    return (
      r && {
        streamId: r.stream_id,
        username: r.username,
        jid: r.jid,
        state: r.state,
        instance: { id: r.id, url: r.url },
      }
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    // Leaving on purpose: let the others know at once rather than after the stale period.
    await this.deps.db
      .query(`UPDATE instances SET heartbeat_at = 'epoch' WHERE id = $1`, [this.deps.self.id])
      .catch(() => undefined);
  }
}
