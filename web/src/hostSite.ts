import { ApiError, type Credentials, type ParleyApi } from './api';

/**
 * The host-site integration as the client uses it (docs/host-site.md): logging in with the token the
 * embedding site signed, its users' profiles (name, avatar, city, age), and complaints.
 */

export interface HostUser {
  id: string;
  name: string | null;
  avatarUrl: string | null;
  city: string | null;
  age: number | null;
  status: string | null;
  login: string | null;
  fetchedAt: string;
}

/** Trades a host-signed token for a session (POST /restapi/v1/host/login); each token works once. */
export async function hostLogin(base: string, token: string): Promise<Credentials> {
  const res = await fetch(`${base}/restapi/v1/host/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ token }),
  });
  const body = (await res.json().catch(() => ({}))) as { streamId?: string; token?: string; detail?: string };
  if (!res.ok || !body.streamId || !body.token)
    throw new ApiError(res.status, undefined, body.detail ?? `host login failed (HTTP ${res.status})`);
  return { base, streamId: body.streamId, token: body.token };
}

/**
 * Profiles by user id, asked once per page (the gateway caches the site's answers too). `off` once the
 * gateway said the integration is not configured (501): then nothing is asked again.
 */
export class HostProfiles {
  private known = new Map<string, Promise<HostUser | null>>();
  off = false;

  constructor(private readonly api: Pick<ParleyApi, 'call' | 'creds'>) {}

  private path(suffix = ''): string {
    return `/restapi/v1/chat/${encodeURIComponent(this.api.creds.streamId)}/host/users${suffix}`;
  }

  get(id: string): Promise<HostUser | null> {
    if (this.off) return Promise.resolve(null);
    let p = this.known.get(id);
    if (!p) {
      p = this.api.call<{ users: HostUser[] }>('GET', this.path(`?ids=${encodeURIComponent(id)}`)).then(
        (r) => r.users[0] ?? null,
        (err: unknown) => this.failed(id, err),
      );
      this.known.set(id, p);
    }
    return p;
  }

  /** Asks the host site again now (the "Refresh profile" button). */
  refresh(id: string): Promise<HostUser | null> {
    const p = this.api
      .call<{ users: HostUser[] }>('POST', this.path('/refresh'), { json: { ids: [id] } })
      .then((r) => r.users[0] ?? null);
    this.known.set(
      id,
      p.catch((err: unknown) => this.failed(id, err)),
    );
    return p;
  }

  private failed(id: string, err: unknown): null {
    if (err instanceof ApiError && err.status === 501) this.off = true;
    this.known.delete(id); // a host site that was down is asked again next time
    return null;
  }
}

const byApi = new WeakMap<object, HostProfiles>();
/** The one HostProfiles of a session (so every dialogue shares its answers). */
export function profilesFor(api: Pick<ParleyApi, 'call' | 'creds'>): HostProfiles {
  let p = byApi.get(api);
  if (!p) byApi.set(api, (p = new HostProfiles(api)));
  return p;
}

export type ReportReason = 'spam' | 'abuse' | 'other';

/** Files a complaint about `jid` and, optionally, some of their messages (POST …/reports). */
export function report(
  api: Pick<ParleyApi, 'call' | 'creds'>,
  r: { jid: string; messageIds: string[]; reason: ReportReason; text: string; block: boolean },
): Promise<unknown> {
  return api.call('POST', `/restapi/v1/chat/${encodeURIComponent(api.creds.streamId)}/reports`, {
    json: {
      jid: r.jid,
      messageIds: r.messageIds,
      reason: r.reason,
      block: r.block,
      ...(r.text.trim() ? { text: r.text.trim() } : {}),
    },
  });
}
