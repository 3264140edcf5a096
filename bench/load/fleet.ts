import { summarize, cdf, round, type Summary } from '../lib/stats.js';
import { makeAgent, openSse, request, type SseStream } from '../lib/http.js';
import { bodyFor, eventsUrl, parleyLogin, seqOf, type ParleyLogin } from './drivers.js';

/**
 * Many users at once: log N users in through Parley's REST API, hold an SSE stream open for each,
 * then measure delivery latency between random pairs while all of them are connected. Also the
 * room fan-out: one post to a room whose occupants are all Parley users.
 */

type Report = (msg: string) => void;

interface Member {
  username: string;
  login: ParleyLogin;
  stream?: SseStream;
}

const members: Member[] = [];
let onChat: (username: string, name: string, data: string, at: number) => void = () => undefined;
const agent = makeAgent(128);

async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

export async function fleetLogin(
  args: { url: string; users: string[]; password: string; concurrency: number; deadlineMs: number },
  report: Report,
): Promise<{
  ok: number;
  failed: number;
  firstError?: string;
  wallMs: number;
  perSecond: number;
  latency: Summary;
  timedOut: boolean;
}> {
  const lat: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + args.deadlineMs;
  let last = t0;
  let timedOut = false;
  await pool(args.users, args.concurrency, async (username) => {
    if (performance.now() > deadline) {
      timedOut = true;
      return;
    }
    const t = performance.now();
    try {
      const login = await parleyLogin(args.url, username, args.password, agent);
      lat.push(performance.now() - t);
      members.push({ username, login });
    } catch (err) {
      failed++;
      firstError ??= (err as Error).message;
    }
    if (performance.now() - last > 2000) {
      last = performance.now();
      report(`logged in ${members.length}/${args.users.length}${failed ? ` (${failed} failed)` : ''}`);
    }
  });
  const wallMs = performance.now() - t0;
  return {
    ok: lat.length,
    failed,
    ...(firstError ? { firstError } : {}),
    wallMs: Math.round(wallMs),
    perSecond: round((lat.length * 1000) / wallMs, 1),
    latency: summarize(lat),
    timedOut,
  };
}

export async function fleetStreams(
  args: { concurrency: number; deadlineMs: number },
  report: Report,
): Promise<{ open: number; failed: number; firstError?: string; wallMs: number; latency: Summary }> {
  const lat: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  let last = t0;
  await pool(
    members.filter((m) => !m.stream),
    args.concurrency,
    async (m) => {
      if (performance.now() - t0 > args.deadlineMs) return;
      const t = performance.now();
      const username = m.username;
      m.stream = openSse(eventsUrl(m.login), (e) => onChat(username, e.name, e.data, performance.now()));
      try {
        await m.stream.opened;
        lat.push(performance.now() - t);
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
        m.stream = undefined;
      }
      if (performance.now() - last > 2000) {
        last = performance.now();
        report(`streams open ${lat.length}/${members.length}`);
      }
    },
  );
  return {
    open: lat.length,
    failed,
    ...(firstError ? { firstError } : {}),
    wallMs: Math.round(performance.now() - t0),
    latency: summarize(lat),
  };
}

export interface FleetProbeResult {
  sent: number;
  delivered: number;
  errors: number;
  firstError?: string;
  latency: Summary;
  ack: Summary;
  sendLag: Summary;
  cdf: [number, number][];
  /**
   * p99 and count of the delivered by the second they were due in (where in the run the tail is), and the
   * p99 of the POST answers due in that second (whether the tail was before the 201 or after it)
   */
  bySecond: { s: number; n: number; p99: number; ackP99: number }[];
}

/** `count` messages between random pairs of members at `rate`/s; latency = POST → recipient's SSE event. */
export async function fleetProbe(args: {
  url: string;
  tag: string;
  count: number;
  rate: number;
  drainMs: number;
  sequential?: boolean;
  pairs?: [number, number][];
}): Promise<FleetProbeResult> {
  const live = members.filter((m) => m.stream && !m.stream.closed);
  if (live.length < 2) throw new Error('fewer than two members with an open stream');
  const due = new Map<number, { t: number; to: string }>();
  const lat: number[] = [];
  const latBySecond: number[][] = [];
  const acks: number[] = [];
  const acksBySecond: number[][] = [];
  const lags: number[] = []; // how late the generator itself sent (its event loop), included in latency
  let errors = 0;
  let firstError: string | undefined;
  onChat = (username, name, data, at) => {
    if (name !== 'chatapi.chat') return;
    const p = JSON.parse(data) as { direction?: string; body?: string };
    if (p.direction !== 'in') return;
    const seq = seqOf(args.tag, p.body);
    if (seq === undefined) return;
    const d = due.get(seq);
    if (!d || d.to !== username) return;
    due.delete(seq);
    lat.push(at - d.t);
    (latBySecond[Math.floor(seq / args.rate)] ??= []).push(at - d.t);
  };
  const start = performance.now();
  for (let i = 0; i < args.count; i++) {
    const t = start + (i * 1000) / args.rate;
    const wait = t - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const pick = args.pairs?.[i % args.pairs.length];
    const a = pick ? live[pick[0] % live.length]! : live[Math.floor(Math.random() * live.length)]!;
    let b = pick ? live[pick[1] % live.length]! : live[Math.floor(Math.random() * live.length)]!;
    if (b === a) b = live[(live.indexOf(a) + 1) % live.length]!;
    due.set(i, { t, to: b.username });
    lags.push(performance.now() - t);
    void request(
      agent,
      'POST',
      `${args.url}/restapi/v1/chat/${a.login.streamId}/messages/${encodeURIComponent(`${b.login.jid}/${b.login.resource}`)}`,
      {
        headers: { Authorization: `Bearer ${a.login.token}`, 'Content-Type': 'text/plain; charset=utf-8' },
        body: bodyFor(args.tag, i),
      },
    ).then(
      (r) => {
        const ack = performance.now() - t;
        acks.push(ack);
        (acksBySecond[Math.floor(i / args.rate)] ??= []).push(ack);
        if (r.status !== 201) {
          errors++;
          firstError ??= `${r.status} ${r.body.slice(0, 200)}`;
          due.delete(i);
        }
      },
      (err: Error) => {
        errors++;
        firstError ??= err.message;
        due.delete(i);
      },
    );
    if (args.sequential) {
      const until = performance.now() + 5000;
      while (due.has(i) && performance.now() < until) await new Promise((r) => setTimeout(r, 1));
    }
  }
  const until = performance.now() + args.drainMs;
  while (due.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
  onChat = () => undefined;
  return {
    sent: args.count,
    delivered: lat.length,
    errors,
    ...(firstError ? { firstError } : {}),
    latency: summarize(lat),
    ack: summarize(acks),
    sendLag: summarize(lags),
    cdf: cdf(lat, 60),
    bySecond: [...latBySecond.entries()].map(([s, l]) => ({
      s,
      n: l?.length ?? 0,
      p99: l ? summarize(l).p99 : 0,
      ackP99: acksBySecond[s] ? summarize(acksBySecond[s]).p99 : 0,
    })),
  };
}

/**
 * Room fan-out: every member joins `room` (PUT), then members[0] posts `count` messages, `gapMs`
 * apart; for each, the time from the POST until every member's stream had it (and the median member).
 */
export async function roomJoin(
  args: { url: string; room: string; concurrency: number },
  report: Report,
): Promise<{
  joined: number;
  failed: number;
  firstError?: string;
  wallMs: number;
  latency: Summary;
  available: boolean;
}> {
  const lat: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let available = true;
  const t0 = performance.now();
  // the first join creates the room; the rest join concurrently
  const join = async (m: Member): Promise<void> => {
    const t = performance.now();
    const r = await request(
      agent,
      'PUT',
      `${args.url}/restapi/v1/chat/${m.login.streamId}/rooms/${args.room}`,
      {
        headers: { Authorization: `Bearer ${m.login.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ nick: m.username, history: 0 }),
      },
    ).catch((err: Error) => ({ status: 0, body: err.message }));
    if (r.status === 200 || r.status === 201) lat.push(performance.now() - t);
    else {
      failed++;
      firstError ??= `${r.status} ${r.body.slice(0, 300)}`;
      if (r.status === 404 || r.status === 405) available = false;
    }
  };
  const [first, ...rest] = members;
  if (first) await join(first);
  if (available) {
    let last = performance.now();
    await pool(rest, args.concurrency, async (m) => {
      await join(m);
      if (performance.now() - last > 2000) {
        last = performance.now();
        report(`joined ${lat.length}/${members.length}`);
      }
    });
  }
  return {
    joined: lat.length,
    failed,
    ...(firstError ? { firstError } : {}),
    wallMs: Math.round(performance.now() - t0),
    latency: summarize(lat),
    available,
  };
}

export async function roomFanout(args: {
  url: string;
  room: string;
  tag: string;
  count: number;
  gapMs: number;
  timeoutMs: number;
}): Promise<{
  messages: number;
  complete: number;
  missing: number;
  all: Summary;
  median: Summary;
  perStream: Summary;
  postAck: Summary;
  cdfAll: [number, number][];
  firstError?: string;
}> {
  const poster = members[0]!;
  const listeners = members.filter((m) => m.stream && !m.stream.closed);
  const arrivals = new Map<number, number[]>();
  let sentAt = 0;
  let current = -1;
  onChat = (_username, name, data, at) => {
    if (name !== 'chatapi.muc') return;
    const p = JSON.parse(data) as { body?: string };
    const seq = seqOf(args.tag, p.body);
    if (seq === undefined || seq !== current) return;
    arrivals.get(seq)!.push(at - sentAt);
  };
  const all: number[] = [];
  const median: number[] = [];
  const perStream: number[] = [];
  const acks: number[] = [];
  let missing = 0;
  let complete = 0;
  let firstError: string | undefined;
  for (let i = 0; i < args.count; i++) {
    current = i;
    arrivals.set(i, []);
    sentAt = performance.now();
    const r = await request(
      agent,
      'POST',
      `${args.url}/restapi/v1/chat/${poster.login.streamId}/rooms/${args.room}`,
      {
        headers: {
          Authorization: `Bearer ${poster.login.token}`,
          'Content-Type': 'text/plain; charset=utf-8',
        },
        body: bodyFor(args.tag, i),
      },
    ).catch((err: Error) => ({ status: 0, body: err.message }));
    acks.push(performance.now() - sentAt);
    if (r.status !== 201 && r.status !== 202) {
      firstError ??= `${r.status} ${r.body.slice(0, 300)}`;
      continue;
    }
    const until = performance.now() + args.timeoutMs;
    while (arrivals.get(i)!.length < listeners.length && performance.now() < until)
      await new Promise((res) => setTimeout(res, 2));
    const got = [...arrivals.get(i)!].sort((a, b) => a - b);
    perStream.push(...got);
    if (got.length === listeners.length) {
      complete++;
      all.push(got[got.length - 1]!);
    } else missing += listeners.length - got.length;
    if (got.length) median.push(got[Math.floor(got.length / 2)]!);
    await new Promise((res) => setTimeout(res, args.gapMs));
  }
  onChat = () => undefined;
  return {
    messages: args.count,
    complete,
    missing,
    all: summarize(all),
    median: summarize(median),
    perStream: summarize(perStream),
    postAck: summarize(acks),
    cdfAll: cdf(all, 40),
    ...(firstError ? { firstError } : {}),
  };
}

export async function fleetClose(): Promise<{ closed: number }> {
  let n = 0;
  for (const m of members) {
    if (m.stream) {
      m.stream.close();
      n++;
    }
  }
  members.length = 0;
  return { closed: n };
}

export function fleetSize(): number {
  return members.length;
}
