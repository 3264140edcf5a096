/** The admin API of a running gateway, called with the master secret (the CLI's `sessions` and `kick`). */

export interface AdminSession {
  streamId: string;
  username: string;
  jid: string;
  resource: string;
  state: string;
  openStreams: number;
  lastActivity: string;
}

/** As GET /restapi/v1/callbacks/dead-letters lists them (the callbacks feature's admin API). */
export interface DeadLetter {
  id: string;
  orderingKey: string;
  url: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deadAt: string;
}

export interface CleanupAnswer {
  days: number;
  removed: number;
  freedBytes: number;
  messagesUpdated: number;
}

export type CompressAnswer =
  | { compressed: true; type: string; size: number; originalSize: number }
  | { compressed: false; reason: string; size: number };

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class GatewayClient {
  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
  ) {}

  async sessions(): Promise<{ instanceId: string; sessions: AdminSession[] }> {
    return (await this.#call('GET', '/restapi/v1/admin/sessions')) as {
      instanceId: string;
      sessions: AdminSession[];
    };
  }

  /** false when the gateway has no such live session */
  async kick(streamId: string): Promise<boolean> {
    const found = await this.#call(
      'DELETE',
      `/restapi/v1/admin/sessions/${encodeURIComponent(streamId)}`,
      [404],
    );
    return found !== undefined;
  }

  /** Every dead-lettered callback, oldest first (the API pages by id; this follows `next` up to `limit`). */
  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const all: DeadLetter[] = [];
    let after: string | null = null;
    do {
      const page = Math.min(500, limit - all.length);
      const q: string = `?limit=${page}${after ? `&after=${after}` : ''}`;
      const r = (await this.#call('GET', `/restapi/v1/callbacks/dead-letters${q}`)) as {
        deadLetters: DeadLetter[];
        next: string | null;
      };
      all.push(...r.deadLetters);
      after = r.next;
    } while (after && all.length < limit);
    return all;
  }

  /** Requeues one dead letter; false when it is not (or no longer) dead-lettered. */
  async replay(id: string): Promise<boolean> {
    return (
      (await this.#call(
        'POST',
        `/restapi/v1/callbacks/dead-letters/${encodeURIComponent(id)}/replay`,
        [400, 404],
      )) !== undefined
    );
  }

  /** Deletes files uploaded more than `days` days ago (Moodle's clean_up). */
  async cleanupAttachments(days: number): Promise<CleanupAnswer> {
    return (await this.#call('POST', `/restapi/v1/admin/attachments/cleanup?days=${days}`)) as CleanupAnswer;
  }

  /** Live video and audio files not tried yet, oldest first. */
  async compressible(limit: number): Promise<{ id: string; type: string; size: number }[]> {
    return (
      (await this.#call('GET', `/restapi/v1/admin/attachments/compressible?limit=${limit}`)) as {
        attachments: { id: string; type: string; size: number }[];
      }
    ).attachments;
  }

  /** Re-encodes one file; undefined when there is no such (live) file. */
  async compress(id: string): Promise<CompressAnswer | undefined> {
    return (await this.#call(
      'POST',
      `/restapi/v1/admin/attachments/${encodeURIComponent(id)}/compress`,
      [404],
    )) as CompressAnswer | undefined;
  }

  /** Requeues every dead letter; returns how many. */
  async replayAll(): Promise<number> {
    return ((await this.#call('POST', '/restapi/v1/callbacks/dead-letters/replay')) as { replayed: number })
      .replayed;
  }

  async #call(method: string, path: string, tolerated: number[] = []): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: { Authorization: `Bearer ${this.secret}`, Accept: 'application/json' },
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the gateway at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}); is it running? (--url)`,
      );
    }
    const text = await res.text();
    if (tolerated.includes(res.status)) return undefined;
    if (res.status === 401 || res.status === 403)
      throw new CliError(
        `the gateway refused the master secret (${res.status}); check PARLEY_SECRET or --secret`,
      );
    if (!res.ok) {
      let detail = text;
      try {
        detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
      } catch {
        /* not JSON */
      }
      throw new CliError(`${method} ${path}: ${res.status} ${detail}`);
    }
    return text ? JSON.parse(text) : {};
  }
}
