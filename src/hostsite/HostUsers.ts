import { z } from 'zod';
import { BridgeError } from '../errors/BridgeError.js';
import type { Log } from '../log.js';

/** What the client shows of a host site's user (Star.Comet's URL_getUsersInfo answer, renamed to camelCase). */
export interface HostUser {
  id: string;
  name: string | null;
  avatarUrl: string | null;
  city: string | null;
  age: number | null;
  status: string | null;
  login: string | null;
  /** when Parley last asked the host site */
  fetchedAt: string;
}

/** Ids per request to the host site: Star.Comet's admin lists stop at 300, a page of contacts is far less. */
export const MAX_IDS = 100;
/** An answer larger than this is not a list of 100 profiles: refused rather than parsed. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const TIMEOUT_MS = 5000;
/** Entries kept; the oldest go first (each is a few hundred bytes). */
const MAX_ENTRIES = 50_000;

const text = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined || v === '' ? null : String(v).slice(0, 2000)));
const Item = z
  .object({
    user_id: z.union([z.string(), z.number()]).transform(String),
    name: text,
    avatar_url: text,
    city: text,
    age: z
      .union([z.number(), z.string()])
      .nullish()
      .transform((v) =>
        v === null || v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v),
      ),
    status: text,
    login: text,
  })
  .passthrough();

interface Entry {
  /** null: the host site does not know this id (remembered too, so unknown ids do not hammer it) */
  user: HostUser | null;
  until: number;
}

/**
 * The host site's user directory through its URL_getUsersInfo: a POST of the form `users=1,2,3` answered
 * with a JSON array of `{user_id, name, avatar_url, city, age, status, login}`. Answers are cached for
 * PARLEY_HOST_USERS_TTL_SECONDS in this instance's memory; refresh() asks again at once. The URL is the
 * operator's (environment only, usually the site on the same private network), so it is not put through
 * the callback SSRF guard; redirects are not followed and the answer is size- and time-bounded.
 */
export class HostUsers {
  readonly #cache = new Map<string, Entry>();

  constructor(
    private readonly deps: {
      url: string;
      ttlSeconds: number;
      log: Log;
      now?: () => number;
    },
  ) {}

  #now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Known users among `ids` (unknown ids are left out), from the cache where fresh. */
  async get(ids: readonly string[]): Promise<HostUser[]> {
    const now = this.#now();
    const missing = ids.filter((id) => (this.#cache.get(id)?.until ?? 0) <= now);
    if (missing.length) {
      try {
        await this.#fetch(missing);
      } catch (err) {
        // A host site that is down must not blank names the cache still holds: serve them stale.
        if (missing.some((id) => !this.#cache.has(id))) throw err;
        this.deps.log.warn({ err }, 'host site user info unavailable; serving cached entries');
      }
    }
    return ids.flatMap((id) => {
      const user = this.#cache.get(id)?.user;
      return user ? [user] : [];
    });
  }

  /** Asks the host site again now (a user changed their profile). */
  async refresh(ids: readonly string[]): Promise<HostUser[]> {
    await this.#fetch(ids);
    return this.get(ids);
  }

  async #fetch(ids: readonly string[]): Promise<void> {
    const answer = await this.#ask(ids);
    const now = this.#now();
    const until = now + this.deps.ttlSeconds * 1000;
    const fetchedAt = new Date(now).toISOString();
    const found = new Map<string, HostUser>();
    for (const raw of answer) {
      const item = Item.safeParse(raw);
      if (!item.success) continue;
      const i = item.data;
      const id = i.user_id.toLowerCase();
      found.set(id, {
        id,
        name: i.name,
        avatarUrl: i.avatar_url && /^https?:\/\//i.test(i.avatar_url) ? i.avatar_url : null,
        city: i.city,
        age: i.age,
        status: i.status,
        login: i.login,
        fetchedAt,
      });
    }
    for (const id of ids) {
      this.#cache.delete(id); // re-inserted last: the map's order is the eviction order
      this.#cache.set(id, { user: found.get(id) ?? null, until });
    }
    while (this.#cache.size > MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
  }

  async #ask(ids: readonly string[]): Promise<unknown[]> {
    let res: Response;
    try {
      res = await fetch(this.deps.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ users: ids.join(',') }).toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw unavailable(`the host site could not be reached: ${(err as Error).message}`, err);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw unavailable(`the host site answered ${res.status} to the user info request`);
    }
    if (Number(res.headers.get('content-length') ?? 0) > MAX_ANSWER_BYTES) {
      await res.body?.cancel();
      throw unavailable('the host site answered more than 1 MiB of user info');
    }
    const body = await res.text();
    if (body.length > MAX_ANSWER_BYTES)
      throw unavailable('the host site answered more than 1 MiB of user info');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw unavailable('the host site did not answer JSON');
    }
    if (!Array.isArray(parsed)) throw unavailable('the host site did not answer a JSON array');
    return parsed;
  }
}

const unavailable = (detail: string, cause?: unknown): BridgeError =>
  new BridgeError('HOST_SITE_UNAVAILABLE', detail, { cause });
