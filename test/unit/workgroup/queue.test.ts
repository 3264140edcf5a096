import assert from 'node:assert/strict';
import {
  averageWaitSeconds,
  changedPositions,
  estimateSeconds,
  msPerPosition,
  pickAgent,
  planOffers,
  positions,
  queueStatus,
  rememberedRejection,
  rotation,
  type AgentView,
  type PlanInput,
} from '../../../src/workgroup/queue.js';

const agent = (jid: string, over: Partial<AgentView> = {}): AgentView => ({
  jid,
  show: 'available',
  maxChats: 4,
  chats: 0,
  pendingOffers: 0,
  since: 0,
  ...over,
});
const [A, B, C] = ['a@x', 'b@x', 'c@x'];
const three = () => [agent(A, { since: 1 }), agent(B, { since: 2 }), agent(C, { since: 3 })];
const plan = (over: Partial<PlanInput>) =>
  planOffers({
    queue: [],
    agents: three(),
    rejections: [],
    now: 100_000,
    rejectionMemoryMs: 20_000,
    ...over,
  });

describe('workgroup queue: routing', () => {
  describe('rotation', () => {
    it('orders agents by when they went on duty, then by JID', () => {
      assert.deepEqual(
        rotation([agent(C, { since: 5 }), agent(B, { since: 1 }), agent(A, { since: 5 })]).map((a) => a.jid),
        [B, A, C],
      );
    });
  });

  describe('planOffers', () => {
    it('goes round-robin over the agents, continuing after the last one offered', () => {
      const p = plan({ queue: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }, { id: 'r4' }] });
      assert.deepEqual(
        p.offers.map((o) => o.agent),
        [A, B, C, A],
      );
      assert.equal(p.cursor, A);
      const next = plan({ queue: [{ id: 'r5' }], cursor: A });
      assert.deepEqual(next.offers, [{ requestId: 'r5', agent: B }]);
    });

    it('starts from the first agent when the last one offered has gone off duty', () => {
      assert.deepEqual(plan({ queue: [{ id: 'r1' }], cursor: 'gone@x' }).offers, [
        { requestId: 'r1', agent: A },
      ]);
    });

    it('skips agents whose show is dnd or xa', () => {
      const agents = [
        agent(A, { show: 'dnd', since: 1 }),
        agent(B, { show: 'xa', since: 2 }),
        agent(C, { since: 3 }),
      ];
      assert.deepEqual(plan({ agents, queue: [{ id: 'r1' }] }).offers, [{ requestId: 'r1', agent: C }]);
      assert.deepEqual(plan({ agents: agents.slice(0, 2), queue: [{ id: 'r1' }] }).offers, []);
    });

    it('skips agents at max chats, counting chats and open offers', () => {
      const agents = [
        agent(A, { since: 1, maxChats: 1, chats: 1 }),
        agent(B, { since: 2, maxChats: 2, chats: 1, pendingOffers: 1 }),
        agent(C, { since: 3 }),
      ];
      assert.deepEqual(plan({ agents, queue: [{ id: 'r1' }] }).offers, [{ requestId: 'r1', agent: C }]);
    });

    it('counts the offers it plans against capacity', () => {
      const agents = [agent(A, { maxChats: 2 })];
      assert.deepEqual(
        plan({ agents, queue: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }] }).offers.map((o) => o.requestId),
        ['r1', 'r2'],
      );
    });

    it('leaves requests that already have an open offer alone', () => {
      assert.deepEqual(plan({ queue: [{ id: 'r1', offeredTo: A }, { id: 'r2' }] }).offers, [
        { requestId: 'r2', agent: A },
      ]);
    });

    it('prefers ready agents to away ones, in rotation order', () => {
      const agents = [
        agent(A, { show: 'away', since: 1 }),
        agent(B, { show: 'chat', since: 2 }),
        agent(C, { since: 3 }),
      ];
      assert.deepEqual(
        plan({ agents, queue: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }] }).offers.map((o) => o.agent),
        [B, C, B],
      );
      assert.deepEqual(
        plan({ agents: [agents[0]!], queue: [{ id: 'r1' }] }).offers,
        [{ requestId: 'r1', agent: A }],
        'away is still routable',
      );
    });

    it('skips an agent who rejected this request within the rejection memory, and wakes when it runs out', () => {
      const rejections = [{ requestId: 'r1', agent: A, at: 90_000 }];
      const p = plan({ queue: [{ id: 'r1' }], rejections, agents: [agent(A)] });
      assert.deepEqual(p.offers, []);
      assert.equal(p.wakeAt, 110_000);
      assert.deepEqual(plan({ queue: [{ id: 'r1' }], rejections, agents: [agent(A)], now: 110_000 }).offers, [
        { requestId: 'r1', agent: A },
      ]);
    });

    it('still offers other requests to an agent who rejected one of them', () => {
      const p = plan({
        queue: [{ id: 'r1' }, { id: 'r2' }],
        rejections: [{ requestId: 'r1', agent: A, at: 99_000 }],
        agents: [agent(A)],
      });
      assert.deepEqual(p.offers, [{ requestId: 'r2', agent: A }]);
    });

    it('moves a rejected request on to the next agent, skipping one at max chats', () => {
      const agents = [
        agent(A, { since: 1, maxChats: 1, chats: 1 }),
        agent(B, { since: 2 }),
        agent(C, { since: 3 }),
      ];
      const p = plan({
        agents,
        queue: [{ id: 'r2' }],
        rejections: [{ requestId: 'r2', agent: B, at: 99_000 }],
        cursor: C,
      });
      assert.deepEqual(p.offers, [{ requestId: 'r2', agent: C }]);
    });

    it('plans nothing without agents, and no wake-up unless a rejection held something back', () => {
      const p = plan({ agents: [], queue: [{ id: 'r1' }] });
      assert.deepEqual(p, { offers: [], cursor: undefined });
    });
  });

  describe('pickAgent and rememberedRejection', () => {
    it('reports the rejections that held agents back', () => {
      const held: { at: number }[] = [];
      const r = pickAgent(
        three(),
        'r1',
        { rejections: [{ requestId: 'r1', agent: A, at: 95_000 }], now: 100_000, rejectionMemoryMs: 20_000 },
        undefined,
        held as never,
      );
      assert.equal(r?.jid, B);
      assert.equal(held.length, 1);
    });

    it('forgets a rejection once the memory has passed, and keeps the newest', () => {
      const rs = [
        { requestId: 'r', agent: A, at: 10 },
        { requestId: 'r', agent: A, at: 50 },
      ];
      assert.equal(rememberedRejection(rs, 'r', A, 60, 20)?.at, 50);
      assert.equal(rememberedRejection(rs, 'r', A, 70, 20), undefined);
      assert.equal(rememberedRejection(rs, 'r', A, 60, 0), undefined, 'a memory of 0 forgets at once');
    });
  });
});

describe('workgroup queue: positions and waiting time', () => {
  it('numbers positions from 1 in queue order', () => {
    assert.deepEqual(
      [...positions([{ id: 'x' }, { id: 'y' }])],
      [
        ['x', 1],
        ['y', 2],
      ],
    );
  });

  it('reports only the positions that changed since last told', () => {
    const told = new Map([
      ['x', 1],
      ['y', 2],
      ['z', 3],
    ]);
    assert.deepEqual(changedPositions(positions([{ id: 'y' }, { id: 'z' }, { id: 'n' }]), told), [
      ['y', 1],
      ['z', 2],
      ['n', 3],
    ]);
    assert.deepEqual(changedPositions(positions([{ id: 'x' }]), told), []);
  });

  it('estimates the time per place from recent history, else the fallback', () => {
    assert.equal(msPerPosition([], 60_000), 60_000);
    assert.equal(
      msPerPosition(
        [
          { waitedMs: 30_000, initialPosition: 1 },
          { waitedMs: 90_000, initialPosition: 3 },
        ],
        60_000,
      ),
      30_000,
    );
    assert.equal(
      msPerPosition([{ waitedMs: -5, initialPosition: 1 }], 1000),
      1000,
      'nonsense history is ignored',
    );
  });

  it('estimates the remaining seconds from the position (0 while being offered)', () => {
    assert.equal(estimateSeconds(3, 30_000), 90);
    assert.equal(estimateSeconds(1, 30_000, true), 0);
    assert.equal(estimateSeconds(2, 1_234), 2);
  });

  it('averages recent waits for the queue summary', () => {
    assert.equal(averageWaitSeconds([]), 0);
    assert.equal(
      averageWaitSeconds([
        { waitedMs: 10_000, initialPosition: 1 },
        { waitedMs: 20_000, initialPosition: 4 },
      ]),
      15,
    );
  });

  it('calls the queue closed without agents, active with waiting requests, else open', () => {
    assert.equal(queueStatus(0, 3), 'closed');
    assert.equal(queueStatus(2, 3), 'active');
    assert.equal(queueStatus(2, 0), 'open');
  });
});
