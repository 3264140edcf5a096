import { request as httpRequest, type ClientRequest } from 'node:http';
import { randomBytes } from 'node:crypto';

/**
 * Issue 21's flood, from its own load-generator process so the gateway under test shares nothing with it
 * but the machine: visitor requests to two workgroups, event streams that never read (history replayed
 * from 0 into them, and visitors' streams up to their cap), and wrong passwords, each from the
 * X-Forwarded-For addresses of a few strangers (the gateway trusts loopback as its proxy by default).
 */

export interface FloodArgs {
  url: string;
  durationMs: number;
  workgroups: string[];
  asksPerS: number;
  wrongPasswordsPerS: number;
  /** an account the wrong passwords are half aimed at (the other half is sprayed over made-up names) */
  victim: string;
  /** streams of users with a long history, each opened from 0 and never read */
  historyStreams: string[];
  visitors: number;
  streamsPerVisitor: number;
}

export interface FloodResult {
  asked: number;
  askRefused: number;
  wrong: number;
  throttled: number;
  streamsOpen: number;
  streamRefused: number;
  other: number;
  firstOther?: string;
}

const open = new Set<ClientRequest>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stream that is never read: the response stays paused, so only the kernel's buffers take its bytes. */
function stall(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { headers: { Accept: 'text/event-stream' } });
    req.on('response', (res) => {
      res.pause();
      if (res.statusCode === 200) open.add(req);
      else req.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** `fire` `perSecond` times a second for `ms`, at most `inFlight` outstanding; resolves when all settled. */
async function paced(perSecond: number, ms: number, inFlight: number, fire: (i: number) => Promise<unknown>) {
  const started = Date.now();
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; Date.now() - started < ms; i++) {
    if (pending.size < inFlight) {
      const p = fire(i).catch(() => undefined);
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    await sleep(Math.max(0, started + ((i + 1) * 1000) / perSecond - Date.now()));
  }
  await Promise.all(pending);
}

export async function flood(a: FloodArgs): Promise<FloodResult> {
  const r: FloodResult = {
    asked: 0,
    askRefused: 0,
    wrong: 0,
    throttled: 0,
    streamsOpen: 0,
    streamRefused: 0,
    other: 0,
  };
  const other = (what: string) => {
    r.other++;
    r.firstOther ??= what.slice(0, 300);
  };
  const visitors: { events: string; token: string }[] = [];
  const history = (async () => {
    for (const url of a.historyStreams) {
      if ((await stall(url)) === 200) r.streamsOpen++;
      else r.streamRefused++;
    }
  })();
  const asks = paced(a.asksPerS, a.durationMs, 100, async (i) => {
    const userID = `f${i}x${randomBytes(2).toString('hex')}`;
    const res = await fetch(`${a.url}/restapi/v1/ask`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': `198.18.0.${(i % 2) + 1}` },
      body: JSON.stringify({
        workgroup: a.workgroups[i % a.workgroups.length],
        userID,
        emailAddress: `${userID}@example.org`,
        question: 'flood',
      }),
    });
    const body = await res.text();
    if (res.status === 202) {
      r.asked++;
      if (visitors.length < a.visitors) visitors.push(JSON.parse(body) as { events: string; token: string });
    } else if (res.status === 429) r.askRefused++;
    else other(`ask → ${res.status} ${body}`);
  });
  const passwords = paced(a.wrongPasswordsPerS, a.durationMs, 100, async (i) => {
    const user = i % 2 ? a.victim : `nobody${i % 50}`;
    const res = await fetch(`${a.url}/restapi/v1/chat/${user}/login`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${user}:guess${i}`).toString('base64')}`,
        'X-Forwarded-For': `203.0.113.${(i % 4) + 1}`,
      },
    });
    const body = await res.text();
    if (res.status === 401) r.wrong++;
    else if (res.status === 429) r.throttled++;
    else other(`login → ${res.status} ${body}`);
  });
  let flooding = true;
  const visitorStreams = (async () => {
    for (let v = 0; v < a.visitors; v++) {
      while (visitors.length <= v && flooding) await sleep(20);
      const visitor = visitors[v];
      if (!visitor) return;
      const sep = visitor.events.includes('?') ? '&' : '?';
      const url = `${visitor.events}${sep}token=${encodeURIComponent(visitor.token)}&lastEventId=0`;
      for (let k = 0; k < a.streamsPerVisitor; k++) {
        if ((await stall(url)) === 200) r.streamsOpen++;
        else r.streamRefused++;
      }
    }
  })();
  await Promise.all([asks, passwords, history]);
  flooding = false;
  await visitorStreams;
  return r;
}

export function floodClose(): boolean {
  for (const req of open) req.destroy();
  open.clear();
  return true;
}
