import assert from 'node:assert/strict';
import pg from 'pg';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, type Reply } from '../helpers/http.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string; username: string };
type Problem = { code: string };

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The gateway's own bound on sends in progress (limits/SendConcurrency.ts), against a database that
 * stalls: sends that cannot finish shrink the bound to its floor (16), past it a session that already has
 * sends out is refused at once with 429 SEND_QUEUE_FULL instead of piling up more, another user's send is
 * still taken, and every send that was taken is stored once the database moves. The stall is a lock held by
 * the test, so no send can finish while it lasts: nothing here is timed but the bound's own 100 ms
 * intervals, which only have to pass.
 */
describe('sends in progress bounded by their time in the gateway (PostgreSQL held by a lock)', () => {
  let gw: TestGateway;
  let db: pg.Client;
  let bob: TestUser;
  let alice: Login;
  let carol: Login;

  before(async () => {
    gw = await startGateway();
    db = new pg.Client({ connectionString: gw.dbUrl });
    await db.connect();
    const [a, b, c] = await Promise.all([
      registerUser('busya'),
      registerUser('busyb'),
      registerUser('busyc'),
    ]);
    bob = b!;
    const login = async (u: TestUser) => {
      const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
        json: { password: u.password },
      });
      assert.ok(r.status === 200 || r.status === 201, r.text);
      return { ...r.body, username: u.username };
    };
    [alice, carol] = await Promise.all([login(a!), login(c!)]);
  });
  after(async () => {
    await db?.end();
    await gw?.stop();
  });

  const send = (from: Login, body: string): Promise<Reply<Problem>> =>
    call<Problem>(`${gw.url}/restapi/v1/chat/${from.streamId}/messages/${bob.username}`, {
      method: 'POST',
      auth: bearer(from.token),
      json: { body },
    });
  const metric = async (series: string) => {
    const r = await call(`${gw.url}/metrics`, { auth: bearer(gw.secret) });
    const line = r.text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `no ${series}`);
    return Number(line.slice(series.length + 1));
  };
  const stored = async (l: Login) => {
    const r = await call<{ messages: { body: string }[] }>(
      `${gw.url}/restapi/v1/chat/${l.username}/messages?limit=500`,
      { auth: bearer(l.token) },
    );
    assert.equal(r.status, 200, r.text);
    return new Set(r.body.messages.map((m) => m.body));
  };

  it("refuses more from a session with sends stuck, takes another user's, and stores every send it took", async () => {
    assert.equal((await send(alice, 'before')).status, 201);
    await db.query('BEGIN');
    await db.query('LOCK TABLE messages IN EXCLUSIVE MODE'); // reads go on; inserts wait
    const stuck = Array.from({ length: 30 }, (_, i) =>
      send(alice, `stuck-${i}`).then((r) => ({ body: `stuck-${i}`, r })),
    );
    // Every stuck send taken (on a busy machine they may take a while to arrive), then several of the
    // bound's intervals with nothing finished: down to its floor (16), under the 30 stuck sends.
    for (let i = 0; i < 200 && (await metric('parley_sends_in_progress')) < 30; i++) await pause(50);
    assert.equal(await metric('parley_sends_in_progress'), 30);
    await pause(600);
    const late = await send(alice, 'late');
    assert.equal(late.status, 429, late.text);
    assert.equal(late.body.code, 'SEND_QUEUE_FULL');
    assert.equal(late.headers.get('retry-after'), '1');
    assert.ok((await metric('parley_send_refused_total{code="SEND_QUEUE_FULL"}')) >= 1);
    assert.equal(await metric('parley_send_bound'), 16);
    const other = send(carol, 'other'); // carol has nothing out: taken, and waits for the database too
    await pause(100);
    await db.query('COMMIT');

    const answers = await Promise.all(stuck);
    for (const a of answers) assert.equal(a.r.status, 201, a.r.text);
    const taken = answers.map((a) => a.body);
    assert.equal((await other).status, 201);
    // Sends are quick again: taken (the bound grows back while they are).
    assert.equal((await send(alice, 'after')).status, 201);

    const bodies = await stored(alice);
    for (const b of ['before', ...taken, 'after'])
      assert.ok(bodies.has(b), `${b} was answered 201 but not stored`);
    assert.ok(!bodies.has('late'), 'a refused send was stored');
    for (const a of answers)
      if (a.r.status !== 201) assert.ok(!bodies.has(a.body), `${a.body} refused but stored`);
    assert.ok((await stored(carol)).has('other'));
  });
});
