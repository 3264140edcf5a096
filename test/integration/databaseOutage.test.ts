import assert from 'node:assert/strict';
import { chmod, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { startPostgres, type RunningPostgres } from '../../tools/servers/postgres.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call } from '../helpers/http.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

type Login = { streamId: string; token: string; jid: string };
type History = { messages: { body: string | null }[]; page: { hasMore: boolean; after: string | null } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bounds of the load: a few senders in a loop, never more than this many sends or this long in all. */
const WORKERS = 4;
const MAX_SENDS = 1500;

/**
 * PostgreSQL stopped and started again under a steady stream of sends, as an operator's restart or a
 * failover does. The rig's PostgreSQL is shared by every test file, so this gateway gets its own server.
 */
describe('database outage under load', function () {
  this.timeout(90_000);
  let pg: RunningPostgres;
  let gw: TestGateway | undefined;
  let peer: XmppPeer | undefined;
  before(async () => {
    const dir = await mkdtemp(join(rig.tmp, 'outage-'));
    await chmod(dir, 0o711); // PostgreSQL runs as its own user when the tests run as root
    pg = await startPostgres({ dir: join(dir, 'pg') });
  });
  after(async () => {
    await peer?.stop();
    await gw?.stop();
    await pg?.stop();
  });

  it('answers 503 + Retry-After while PostgreSQL is down, and loses or duplicates nothing', async () => {
    gw = await startGateway({ DATABASE_URL: pg.url });
    const [a, b] = await Promise.all([registerUser('dbout-a'), registerUser('dbout-b')]);
    const la = (
      await call<Login>(`${gw.url}/restapi/v1/chat/${a.username}/login`, { json: { password: a.password } })
    ).body;
    peer = await XmppPeer.connect(b.username, b.password);
    const bodyOf = (s: { getChildText(n: string): string | null }) => s.getChildText('body');

    const outcomes = new Map<string, number>();
    const noRetryAfter: string[] = [];
    let phase: 'before' | 'down' | 'after' = 'before';
    const seen = { before: new Set<number>(), down: new Set<number>(), after: new Set<number>() };
    let sends = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop && sends < MAX_SENDS; i++) {
        sends++;
        const body = `w${w}-${i}`;
        const at = phase;
        const r = await call(`${gw!.url}/restapi/v1/chat/${la.streamId}/messages/${b.username}`, {
          auth: bearer(la.token),
          text: body,
        });
        outcomes.set(body, r.status);
        seen[at].add(r.status);
        if (r.status === 503 && !r.headers.get('retry-after')) noRetryAfter.push(body);
        if (r.status !== 201) await sleep(20); // as a client honouring Retry-After would, only faster
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    const waitFor = async (what: string, ok: () => boolean, ms = 15_000) => {
      for (const end = Date.now() + ms; !ok(); await sleep(10))
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    };
    try {
      await waitFor('sends before the outage', () => outcomes.size >= 40);
      phase = 'down';
      await pg.stop();
      await waitFor(
        '503s during the outage',
        () => [...outcomes.values()].filter((s) => s === 503).length >= 20,
      );
      const ready = await call<{ checks: { database: string } }>(`${gw.url}/readyz`);
      assert.equal(ready.body.checks.database, 'down');
      pg = await startPostgres({ dir: pg.dir, port: pg.port });
      phase = 'after';
      const okAfter = () => [...outcomes.values()].filter((s) => s === 201).length;
      const base = okAfter();
      await waitFor('sends stored again after the restart', () => okAfter() >= base + 40, 30_000);
    } finally {
      stop = true;
      await load;
    }

    const statuses = [...outcomes.values()];
    const unexpected = [...outcomes].filter(([, s]) => s !== 201 && s !== 503);
    assert.deepEqual(unexpected, [], 'every send answered 201 or 503');
    assert.deepEqual(noRetryAfter, [], 'every 503 carries Retry-After');
    assert.ok(seen.down.has(503));
    assert.ok(sends <= MAX_SENDS + WORKERS);
    const ok = new Set([...outcomes].filter(([, s]) => s === 201).map(([body]) => body));
    const refused = new Set([...outcomes].filter(([, s]) => s === 503).map(([body]) => body));

    // Delivered: every 201 reached the recipient, exactly once.
    const delivered = () => peer!.stanzas.filter((s) => s.is('message') && bodyOf(s)).map((s) => bodyOf(s)!);
    await waitFor('every accepted message delivered', () => [...ok].every((m) => delivered().includes(m)));
    await sleep(300); // any duplicate would arrive right behind
    const counts = new Map<string, number>();
    for (const m of delivered()) counts.set(m, (counts.get(m) ?? 0) + 1);
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'no message delivered twice',
    );
    // A refused send can only have reached the recipient when the outage cut its COMMIT after the stanza
    // had left (sends are stored and sent in one transaction): at most one per send in flight.
    const ghosts = [...counts.keys()].filter((m) => refused.has(m));
    assert.ok(ghosts.length <= WORKERS, `refused yet delivered: ${ghosts.join(', ')}`);
    assert.deepEqual(
      [...counts.keys()].filter((m) => !ok.has(m) && !refused.has(m)),
      [],
      'nothing delivered that was not sent',
    );

    // History: every 201 exactly once, no 503.
    const history: string[] = [];
    for (let after: string | null = '0'; after;) {
      const page: History = (
        await call<History>(
          `${gw.url}/restapi/v1/chat/${a.username}/messages?to=${b.username}&limit=500&after=${after}`,
          { auth: bearer(la.token) },
        )
      ).body;
      history.push(...page.messages.map((m) => m.body ?? ''));
      after = page.page.hasMore ? page.page.after : null;
    }
    const inHistory = new Map<string, number>();
    for (const m of history) inHistory.set(m, (inHistory.get(m) ?? 0) + 1);
    assert.deepEqual(
      [...ok].filter((m) => inHistory.get(m) !== 1),
      [],
      'every 201 is in history exactly once',
    );
    assert.deepEqual(
      history.filter((m) => refused.has(m)),
      [],
      'no 503 is in history',
    );
    assert.equal(history.length, ok.size);
    console.log(
      `      sends ${statuses.length}: ${ok.size} × 201, ${refused.size} × 503, ${ghosts.length} refused yet delivered`,
    );
  });
});
