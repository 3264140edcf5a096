import assert from 'node:assert/strict';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { Dispatcher } from '../../../src/workgroup/Dispatcher.js';
import { REVOKE } from '../../../src/workgroup/routing.js';
import { TimerSet } from '../../../src/workgroup/timers.js';
import type { Workgroup } from '../../../src/workgroup/settings.js';
import { FakeClock, FakePorts, FakeRequestStore, FakeWorkgroupStore, silentLog } from './fakes.js';

const WG = 'help';
const ANN = 'ann@example.org';
const BOB = 'bob@example.org';
const CID = 'cid@example.org';
const full = (bare: string): string => `${bare}/desk`;

function setUp(settings: Partial<Workgroup> = {}) {
  const clock = new FakeClock();
  const requests = new FakeRequestStore();
  const workgroups = new FakeWorkgroupStore();
  const ports = new FakePorts();
  const timers = new TimerSet(clock);
  workgroups.add(WG, [ANN, BOB, CID], {
    offerTimeoutMs: 20_000,
    requestTimeoutMs: 240_000,
    rejectionMemoryMs: 30_000,
    maxChats: 1,
    ...settings,
  });
  const d = new Dispatcher({ workgroups, requests, timers, clock, ports, log: silentLog() });
  /** Lets work nobody awaits (timer callbacks, room set-up outside the lane) run to its end. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      await d.drain();
      await new Promise((r) => setImmediate(r));
    }
  };
  const tick = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await settle();
  };
  /** Agents go on duty one after another: their order is the rotation. */
  const onDuty = async (...agents: string[]): Promise<void> => {
    for (const a of agents) {
      await d.onDuty(WG, full(a), { show: 'available' });
      clock.t += 1;
    }
  };
  const visitor = (name: string) =>
    d.join({ workgroup: WG, kind: 'rest', userId: name, userJid: `${name}@visitors`, metadata: {} });
  return { clock, requests, workgroups, ports, timers, d, settle, tick, onDuty, visitor };
}

const codeOf = (err: unknown): string => (err instanceof BridgeError ? err.code : String(err));

describe('workgroup Dispatcher (in-memory stores, fake clock and ports)', () => {
  it('offers requests round-robin, skipping agents at capacity, and queues the rest in order', async () => {
    const t = setUp();
    await t.onDuty(ANN, BOB);
    const r1 = await t.visitor('v1');
    const r2 = await t.visitor('v2');
    const r3 = await t.visitor('v3');
    assert.deepEqual(t.ports.offeredTo(), [ANN, BOB]); // one each: max-chats 1 counts open offers
    assert.deepEqual(
      [r1, r2, r3].map((r) => [r.status, r.initialPosition]),
      [
        ['offered', 1],
        ['offered', 2],
        ['queued', 3],
      ],
    );
    assert.ok(t.timers.has(`offer:${t.ports.offers[0]!.offer.id}`));
    assert.ok(t.timers.has(`request:${r3.id}`));
    await t.onDuty(CID);
    assert.deepEqual(t.ports.offeredTo(), [ANN, BOB, CID]);
  });

  it('continues the rotation after the agent offered last', async () => {
    const t = setUp({ maxChats: 4 });
    await t.onDuty(ANN, BOB, CID);
    for (const v of ['v1', 'v2', 'v3', 'v4']) await t.visitor(v);
    assert.deepEqual(t.ports.offeredTo(), [ANN, BOB, CID, ANN]);
  });

  it('accept: the request is routed to a room and both are invited; the timers stop', async () => {
    const t = setUp();
    await t.onDuty(ANN);
    const r = await t.visitor('v1');
    const { offer } = t.ports.offers[0]!;
    const accepted = await t.d.accept(WG, full(ANN), { offerId: offer.id });
    assert.equal(accepted.status, 'accepted');
    assert.equal(accepted.agentJid, ANN);
    await t.settle();
    const routed = await t.requests.get(r.id);
    assert.equal(routed?.status, 'routed');
    assert.equal(routed?.room, `room-${r.id}@conference.example.org`);
    assert.equal(t.ports.invites.length, 1);
    assert.equal(t.timers.has(`offer:${offer.id}`), false);
    assert.equal(t.timers.has(`request:${r.id}`), false);
    await t.tick(300_000); // neither timer fires later
    assert.equal((await t.requests.get(r.id))?.status, 'routed');
    assert.equal(t.ports.revokes.length, 0);
  });

  it('accept answers 404 for an unknown offer, 403 for another agent, 409 once it is closed', async () => {
    const t = setUp();
    await t.onDuty(ANN, BOB);
    await t.visitor('v1');
    const { offer } = t.ports.offers[0]!;
    await assert.rejects(t.d.accept(WG, full(ANN), { offerId: 'of-none' }), (e) => codeOf(e) === 'NOT_FOUND');
    await assert.rejects(t.d.accept(WG, full(BOB), { offerId: offer.id }), (e) => codeOf(e) === 'FORBIDDEN');
    // XEP-0142 answers name the user instead of the offer
    await t.d.accept(WG, full(ANN), { userJid: 'v1@visitors' });
    await assert.rejects(t.d.accept(WG, full(ANN), { offerId: offer.id }), (e) => codeOf(e) === 'CONFLICT');
  });

  it('reject passes the request on; the agent is not offered it again until the rejection memory runs out', async () => {
    const t = setUp();
    await t.onDuty(ANN);
    const r = await t.visitor('v1');
    await t.d.reject(WG, full(ANN), { offerId: t.ports.offers[0]!.offer.id });
    assert.equal((await t.requests.get(r.id))?.status, 'queued');
    assert.deepEqual(t.ports.offeredTo(), [ANN]);
    await t.onDuty(BOB);
    assert.deepEqual(t.ports.offeredTo(), [ANN, BOB]);
    await t.d.reject(WG, full(BOB), { offerId: t.ports.offers[1]!.offer.id });
    await t.tick(29_000);
    assert.deepEqual(t.ports.offeredTo(), [ANN, BOB]);
    await t.tick(1_500); // ANN's rejection is forgotten: the wake-up timer routes again
    assert.deepEqual(t.ports.offeredTo(), [ANN, BOB, ANN]);
  });

  it('revokes an offer nobody answered in time and passes the request to the next agent', async () => {
    const t = setUp();
    await t.onDuty(ANN, BOB);
    const r = await t.visitor('v1');
    const first = t.ports.offers[0]!.offer;
    await t.tick(19_999);
    assert.equal(t.ports.revokes.length, 0);
    await t.tick(1);
    assert.deepEqual(
      t.ports.revokes.map((x) => [x.offer.id, x.reason]),
      [[first.id, REVOKE.timeout]],
    );
    assert.equal((await t.requests.offer(first.id))?.status, 'timeout');
    assert.deepEqual(t.ports.offeredTo(), [ANN, BOB]);
    assert.equal((await t.requests.get(r.id))?.status, 'offered');
    await assert.rejects(t.d.accept(WG, full(ANN), { offerId: first.id }), (e) => codeOf(e) === 'CONFLICT');
  });

  it('ends a request nobody took within the request timeout (agent-not-found) and revokes its offer', async () => {
    const t = setUp({ offerTimeoutMs: 200_000, requestTimeoutMs: 60_000 });
    await t.onDuty(ANN);
    const r = await t.visitor('v1');
    await t.tick(60_000);
    assert.equal((await t.requests.get(r.id))?.status, 'timeout');
    assert.deepEqual(
      t.ports.departures.map((x) => [x.request.id, x.reason]),
      [[r.id, 'agent-not-found']],
    );
    assert.deepEqual(
      t.ports.revokes.map((x) => x.reason),
      [REVOKE.requestTimeout],
    );
    assert.equal(t.timers.size, 0);
  });

  it('cancel leaves the queue, revokes an open offer ("User canceled") and moves the others up', async () => {
    const t = setUp();
    await t.onDuty(ANN);
    const [r1, r2, r3] = [await t.visitor('v1'), await t.visitor('v2'), await t.visitor('v3')];
    assert.equal(await t.d.cancel(r1.id), true);
    assert.deepEqual(
      t.ports.revokes.map((x) => [x.offer.requestId, x.reason]),
      [[r1.id, REVOKE.canceled]],
    );
    assert.deepEqual(
      t.ports.departures.map((x) => [x.request.id, x.reason]),
      [[r1.id, 'departure-requested']],
    );
    // ANN is free again: the next in line gets the offer; the queue is v2 (offered), v3
    assert.deepEqual(t.ports.offeredTo(), [ANN, ANN]);
    assert.deepEqual(
      (await t.requests.waiting(WG)).map((r) => r.id),
      [r2.id, r3.id],
    );
    assert.equal(await t.d.cancel(r1.id), false); // not waiting any more
    assert.equal(t.timers.has(`request:${r1.id}`), false);
  });

  it('refuses a second open request from the same visitor (409)', async () => {
    const t = setUp();
    await t.visitor('v1');
    await assert.rejects(t.visitor('v1'), (e) => codeOf(e) === 'CONFLICT');
  });

  it('an offer that bounces takes the agent off duty and goes to the next agent', async () => {
    const t = setUp();
    t.ports.bouncing.add(full(ANN));
    await t.onDuty(ANN, BOB);
    const r = await t.visitor('v1');
    await t.settle();
    assert.deepEqual(t.ports.offeredTo(), [ANN, BOB]);
    assert.equal((await t.requests.offer(t.ports.offers[0]!.offer.id))?.status, 'failed');
    assert.deepEqual(
      (await t.workgroups.agents(WG)).map((a) => a.jid),
      [BOB],
    );
    assert.equal((await t.requests.get(r.id))?.status, 'offered');
  });

  it('a room that cannot be made puts the accepted request back in the queue and revokes the offer', async () => {
    const t = setUp();
    t.ports.failRoom = true;
    await t.onDuty(ANN);
    const r = await t.visitor('v1');
    await t.d.accept(WG, full(ANN), { offerId: t.ports.offers[0]!.offer.id });
    t.ports.failRoom = false;
    await t.settle();
    assert.deepEqual(
      t.ports.revokes.map((x) => x.reason),
      [REVOKE.roomFailed],
    );
    // back in the queue with its request timer, and offered again (ANN has capacity once more)
    assert.ok(t.timers.has(`request:${r.id}`));
    assert.deepEqual(t.ports.offeredTo(), [ANN, ANN]);
  });

  it('going off duty revokes the agent’s open offers and re-routes them', async () => {
    const t = setUp();
    await t.onDuty(ANN, BOB);
    await t.visitor('v1');
    await t.d.offDuty(WG, full(ANN));
    await t.settle();
    assert.deepEqual(
      t.ports.revokes.map((x) => [x.offer.agentJid, x.reason]),
      [[ANN, REVOKE.offDuty]],
    );
    assert.deepEqual(t.ports.offeredTo(), [ANN, BOB]);
  });

  it('makes no offers while the component is offline, and routes once it is back', async () => {
    const t = setUp();
    t.ports.isOnline = false;
    await t.onDuty(ANN);
    await t.visitor('v1');
    assert.equal(t.ports.offers.length, 0);
    t.ports.isOnline = true;
    await t.d.dispatchAll();
    assert.deepEqual(t.ports.offeredTo(), [ANN]);
  });

  it('refuses on-duty presence from someone who is not a member (403)', async () => {
    const t = setUp();
    await assert.rejects(
      t.d.onDuty(WG, 'eve@example.org/x', { show: 'chat' }),
      (e) => codeOf(e) === 'FORBIDDEN',
    );
  });
});
