/**
 * In-memory stand-ins for what the workgroup Dispatcher talks to: the two stores (the same slices the
 * Postgres stores satisfy, with the same conditional-update semantics), the XMPP side (DispatchPorts,
 * recording what would have been sent) and a clock that only moves when a test says so.
 */
import { pino } from 'pino';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import type { Log } from '../../../src/log.js';
import type { Clock } from '../../../src/workgroup/timers.js';
import type { DispatchPorts, RoutingRequests, RoutingWorkgroups } from '../../../src/workgroup/routing.js';
import {
  WAITING,
  type NewRequest,
  type OfferRow,
  type RequestRow,
  type RequestStatus,
} from '../../../src/workgroup/RequestStore.js';
import type { AgentRow } from '../../../src/workgroup/WorkgroupStore.js';
import { DEFAULT_SETTINGS, type Workgroup } from '../../../src/workgroup/settings.js';
import type { DepartReason } from '../../../src/workgroup/xep0142.js';

export const silentLog = (): Log => pino({ level: 'silent' });

/** A clock that only moves when told to, running due callbacks in deadline order. */
export class FakeClock implements Clock {
  t = 1_000_000;
  #next = 0;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const h = ++this.#next;
    this.pending.set(h, { at: this.t + ms, fn });
    return h;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = [...this.pending].filter(([, p]) => p.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = until;
  }
}

const copy = <T extends object>(o: T): T => ({ ...o });

export class FakeRequestStore implements RoutingRequests {
  readonly requests = new Map<string, RequestRow>();
  readonly offers = new Map<string, OfferRow>();
  #seq = 0;

  async insert(n: NewRequest): Promise<RequestRow> {
    const open = [...this.requests.values()].filter((r) => WAITING.includes(r.status));
    if (open.some((r) => (n.kind === 'rest' ? r.userId === n.userId : r.userJid === n.userJid)))
      throw new BridgeError('CONFLICT', `${n.userId} is already waiting`);
    const row: RequestRow = {
      id: n.id,
      seq: String(++this.#seq),
      workgroup: n.workgroup,
      kind: n.kind,
      userJid: n.userJid,
      userId: n.userId,
      email: n.email,
      question: n.question,
      metadata: n.metadata,
      status: 'queued',
      initialPosition: open.filter((r) => r.workgroup === n.workgroup).length + 1,
      visitorJoined: false,
      joinedAt: n.joinedAt,
    };
    this.requests.set(row.id, row);
    return copy(row);
  }

  async get(id: string): Promise<RequestRow | undefined> {
    const r = this.requests.get(id);
    return r && copy(r);
  }

  async transition(
    id: string,
    from: RequestStatus[],
    to: RequestStatus,
    set: Partial<RequestRow> = {},
  ): Promise<RequestRow | undefined> {
    const r = this.requests.get(id);
    if (!r || !from.includes(r.status)) return undefined;
    r.status = to;
    for (const [k, v] of Object.entries(set)) if (v !== undefined) Object.assign(r, { [k]: v });
    return copy(r);
  }

  async waiting(workgroup: string): Promise<RequestRow[]> {
    return this.#sorted().filter((r) => r.workgroup === workgroup && WAITING.includes(r.status));
  }

  async countWaiting(workgroup: string): Promise<number> {
    return (await this.waiting(workgroup)).length;
  }

  async withStatus(statuses: RequestStatus[]): Promise<RequestRow[]> {
    return this.#sorted().filter((r) => statuses.includes(r.status));
  }

  #sorted(): RequestRow[] {
    return [...this.requests.values()].sort((a, b) => Number(a.seq) - Number(b.seq)).map(copy);
  }

  async chatsByAgent(workgroup: string): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const r of this.requests.values())
      if (r.workgroup === workgroup && (r.status === 'accepted' || r.status === 'routed') && r.agentJid)
        m.set(r.agentJid, (m.get(r.agentJid) ?? 0) + 1);
    return m;
  }

  async insertOffer(o: Omit<OfferRow, 'status' | 'reason' | 'answeredAt'>): Promise<void> {
    this.offers.set(o.id, { ...o, status: 'pending' });
  }

  async offer(id: string): Promise<OfferRow | undefined> {
    const o = this.offers.get(id);
    return o && copy(o);
  }

  async offerFor(workgroup: string, agentJid: string, userJid: string): Promise<OfferRow | undefined> {
    return [...this.offers.values()]
      .filter(
        (o) =>
          o.workgroup === workgroup &&
          o.agentJid === agentJid &&
          this.requests.get(o.requestId)?.userJid === userJid,
      )
      .sort((a, b) => b.offeredAt.getTime() - a.offeredAt.getTime())
      .map(copy)[0];
  }

  async pendingOffers(workgroup?: string): Promise<OfferRow[]> {
    return [...this.offers.values()]
      .filter((o) => o.status === 'pending' && (workgroup === undefined || o.workgroup === workgroup))
      .sort((a, b) => a.offeredAt.getTime() - b.offeredAt.getTime())
      .map(copy);
  }

  async closeOffer(
    id: string,
    status: Exclude<OfferRow['status'], 'pending'>,
    at: Date,
    reason?: string,
  ): Promise<OfferRow | undefined> {
    const o = this.offers.get(id);
    if (o?.status !== 'pending') return undefined;
    Object.assign(o, { status, answeredAt: at, reason });
    return copy(o);
  }

  async rejections(
    workgroup: string,
    since: Date,
  ): Promise<{ requestId: string; agent: string; at: number }[]> {
    return [...this.offers.values()]
      .filter(
        (o) =>
          o.workgroup === workgroup &&
          (o.status === 'rejected' || o.status === 'timeout') &&
          o.answeredAt!.getTime() > since.getTime(),
      )
      .map((o) => ({ requestId: o.requestId, agent: o.agentJid, at: o.answeredAt!.getTime() }));
  }

  async acceptedOffer(requestId: string): Promise<OfferRow | undefined> {
    const o = [...this.offers.values()].find((x) => x.requestId === requestId && x.status === 'accepted');
    return o && copy(o);
  }
}

export class FakeWorkgroupStore implements RoutingWorkgroups {
  readonly workgroups = new Map<string, Workgroup>();
  readonly onDuty = new Map<string, AgentRow>();

  add(name: string, members: string[], settings: Partial<Workgroup> = {}): Workgroup {
    const w: Workgroup = { ...DEFAULT_SETTINGS, name, members, ...settings };
    this.workgroups.set(name, w);
    return w;
  }

  async get(name: string): Promise<Workgroup | undefined> {
    const w = this.workgroups.get(name);
    return w && { ...w, members: [...w.members] };
  }
  async require(name: string): Promise<Workgroup> {
    const w = await this.get(name);
    if (!w) throw new BridgeError('NOT_FOUND', `no workgroup named ${name}`);
    return w;
  }
  async list(): Promise<Workgroup[]> {
    return [...this.workgroups.keys()].sort().map((n) => ({ ...this.workgroups.get(n)! }));
  }
  async isMember(name: string, jid: string): Promise<boolean> {
    return this.workgroups.get(name)?.members.includes(jid) ?? false;
  }
  async agents(workgroup: string): Promise<AgentRow[]> {
    return [...this.onDuty.values()]
      .filter((a) => a.workgroup === workgroup)
      .sort((a, b) => a.since.getTime() - b.since.getTime() || a.jid.localeCompare(b.jid))
      .map(copy);
  }
  async upsertAgent(a: Omit<AgentRow, 'since'>, now: Date): Promise<void> {
    const key = `${a.workgroup}|${a.jid}`;
    const since = this.onDuty.get(key)?.since ?? now; // a changed show keeps the agent's turn
    this.onDuty.set(key, { ...a, since });
  }
  async removeAgent(workgroup: string, fullJid: string): Promise<boolean> {
    for (const [k, a] of this.onDuty)
      if (a.workgroup === workgroup && a.fullJid === fullJid) return this.onDuty.delete(k);
    return false;
  }
  async removeResource(fullJid: string): Promise<string[]> {
    const left: string[] = [];
    for (const [k, a] of this.onDuty)
      if (a.fullJid === fullJid) {
        this.onDuty.delete(k);
        left.push(a.workgroup);
      }
    return left;
  }
}

/** The XMPP side as a log of what would have gone out; each behaviour can be changed per test. */
export class FakePorts implements DispatchPorts {
  isOnline = true;
  readonly offers: { offer: OfferRow; request: RequestRow }[] = [];
  readonly revokes: { offer: OfferRow; reason: string }[] = [];
  readonly departures: { request: RequestRow; reason: DepartReason; detail?: string }[] = [];
  readonly queueChanges: string[] = [];
  readonly invites: { request: RequestRow; offer: OfferRow }[] = [];
  readonly closedRooms: string[] = [];
  /** agent full JIDs whose offer IQs bounce (the resource is gone) */
  readonly bouncing = new Set<string>();
  failRoom = false;

  online(): boolean {
    return this.isOnline;
  }
  async sendOffer(offer: OfferRow, request: RequestRow): Promise<void> {
    this.offers.push({ offer, request });
    if (this.bouncing.has(offer.agentFull)) throw new Error('service-unavailable');
  }
  async sendRevoke(offer: OfferRow, _request: RequestRow, reason: string): Promise<void> {
    this.revokes.push({ offer, reason });
  }
  async departed(request: RequestRow, reason: DepartReason, detail?: string): Promise<void> {
    this.departures.push({ request, reason, detail });
  }
  async queueChanged(workgroup: string): Promise<void> {
    this.queueChanges.push(workgroup);
  }
  async openRoom(request: RequestRow): Promise<string> {
    if (this.failRoom) throw new Error('room creation refused');
    return `room-${request.id}@conference.example.org`;
  }
  async invite(request: RequestRow, offer: OfferRow): Promise<void> {
    this.invites.push({ request, offer });
  }
  async closeRoom(room: string): Promise<void> {
    this.closedRooms.push(room);
  }
  /** agents (bare JIDs) the offers went to, in order */
  offeredTo(): string[] {
    return this.offers.map((o) => o.offer.agentJid);
  }
}
