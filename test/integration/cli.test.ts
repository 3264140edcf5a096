import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { runCli } from '../../src/cli/runCli.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { expectResponseMatchesSpec } from '../helpers/openapi.js';
import { SseClient } from '../helpers/sse.js';
import { rig } from '../rig/rig.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string };

/** Runs the CLI in process with a clean environment (only what the test gives), capturing its output. */
async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('parley admin CLI against a real gateway + PostgreSQL', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  let db: pg.Client;
  const streams: SseClient[] = [];
  let api: string[];
  before(async () => {
    gw = await startGateway();
    db = new pg.Client({ connectionString: gw.dbUrl });
    await db.connect();
    // `--secret=`: a base64url secret may start with '-', which parseArgs would read as an option
    api = ['--url', gw.url, `--secret=${gw.secret}`];
  });
  after(async () => {
    for (const s of streams) s.close();
    await db?.end();
    await gw?.stop();
  });

  const login = async (u: TestUser): Promise<Login> => {
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.equal(r.status, 201, r.text);
    return r.body;
  };

  it('lists sessions (gateway API and --db) and kicks one, whose streams hear why', async () => {
    const [a, b] = [await registerUser('cli-a'), await registerUser('cli-b')];
    const [la, lb] = [await login(a), await login(b)];
    const tab = new SseClient(withToken(lb.events, lb.token));
    streams.push(tab);
    await tab.opened;

    const listed = await cli(['sessions', '--json', ...api]);
    assert.equal(listed.code, 0, listed.err);
    const body = JSON.parse(listed.out) as {
      instanceId: string;
      sessions: { streamId: string; jid: string; openStreams: number }[];
    };
    expectResponseMatchesSpec('GET', '/restapi/v1/admin/sessions', 200, 'application/json', body);
    assert.deepEqual(body.sessions.map((s) => s.streamId).sort(), [la.streamId, lb.streamId].sort());
    assert.equal(body.sessions.find((s) => s.streamId === lb.streamId)!.openStreams, 1);

    const human = await cli(['sessions', ...api]);
    assert.match(human.out, new RegExp(`${la.streamId}\\s+${a.jid}\\s+online`));
    assert.match(human.out, /2 session\(s\) on test-/);

    const fromDb = await cli(['sessions', '--db', '--json', '--database-url', gw.dbUrl]);
    assert.equal(fromDb.code, 0, fromDb.err);
    assert.deepEqual(
      (JSON.parse(fromDb.out) as { stream_id: string }[]).map((r) => r.stream_id).sort(),
      [la.streamId, lb.streamId].sort(),
    );

    const kicked = await cli(['kick', lb.streamId, ...api]);
    assert.equal(kicked.code, 0, kicked.err);
    assert.equal(kicked.out, `kicked ${lb.streamId}`);
    const offline = await tab.next((e) => e.name === 'chatapi.session' && e.data.type === 'offline');
    assert.equal(offline.data.reason, 'kicked');
    const gone = await call(`${gw.url}/restapi/v1/chat/${lb.streamId}`, { auth: bearer(lb.token) });
    assert.equal(gone.status, 404);

    const again = await cli(['kick', lb.streamId, ...api]);
    assert.equal(again.code, 1);
    assert.match(again.err, /no live session/);
    await call(`${gw.url}/restapi/v1/chat/${la.streamId}/logoff`, { method: 'POST', auth: bearer(la.token) });
  });

  it('refuses without the master secret, and the admin routes answer as documented', async () => {
    const wrong = await cli(['sessions', '--url', gw.url, '--secret', 'not-the-master-secret']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /refused the master secret/);
    const none = await call(`${gw.url}/restapi/v1/admin/sessions`);
    expectResponseMatchesSpec('GET', '/restapi/v1/admin/sessions', none.status, none.contentType, none.body);
    assert.equal(none.status, 401);
    const missing = await call(`${gw.url}/restapi/v1/admin/sessions/ps_AAAAAAAAAAAAAAAA`, {
      method: 'DELETE',
      auth: gw.secret,
    });
    expectResponseMatchesSpec(
      'DELETE',
      '/restapi/v1/admin/sessions/{streamid}',
      missing.status,
      missing.contentType,
      missing.body,
    );
    assert.equal(missing.status, 404);
    const usage = await cli(['kick']);
    assert.equal(usage.code, 2);
  });

  it('reads the gateway address, secret and database from --env-file', async () => {
    const dir = await mkdtemp(join(rig.tmp, 'cli-'));
    const file = join(dir, 'parley.env');
    const port = new URL(gw.url).port;
    await writeFile(
      file,
      `PARLEY_HOST=0.0.0.0\nPARLEY_PORT=${port}\nPARLEY_PUBLIC_URL=https://chat.example.org\nPARLEY_SECRET=${gw.secret}\nDATABASE_URL=${gw.dbUrl}\n`,
    );
    const r = await cli(['--env-file', file, 'sessions', '--json']);
    assert.equal(r.code, 0, r.err);
    assert.ok(Array.isArray((JSON.parse(r.out) as { sessions: unknown[] }).sessions));
    const d = await cli(['--env-file', file, 'sessions', '--db']);
    assert.equal(d.code, 0, d.err);
  });

  it('purges messages older than N days with their events, and nothing newer', async () => {
    const [a, b] = [await registerUser('cli-old'), await registerUser('cli-new')];
    const [la] = [await login(a), await login(b)];
    for (const body of ['old-1', 'old-2', 'recent']) {
      const r = await call(`${gw.url}/restapi/v1/chat/${la.streamId}/messages/${b.username}`, {
        method: 'POST',
        auth: bearer(la.token),
        json: { body },
      });
      assert.equal(r.status, 201, r.text);
    }
    // Wait for Bob's copies too (one row per owner), then age the "old" ones.
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM messages WHERE body LIKE 'old-%' OR body = 'recent'`,
      );
      if (Number(rows[0]!.n) >= 6) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await db.query(`UPDATE messages SET sent_at = now() - interval '40 days' WHERE body LIKE 'old-%'`);
    const { rows: oldEvents } = await db.query<{ event_id: string }>(
      `SELECT event_id FROM messages WHERE body LIKE 'old-%'`,
    );
    assert.equal(oldEvents.length, 4);

    const dry = await cli(['purge', '--days', '30', '--dry-run', '--json', '--database-url', gw.dbUrl]);
    assert.equal(dry.code, 0, dry.err);
    assert.deepEqual(
      { ...JSON.parse(dry.out), cutoff: undefined },
      { cutoff: undefined, messages: 4, events: 4, dryRun: true },
    );

    const done = await cli(['purge', '--days', '30', '--batch', '3', '--database-url', gw.dbUrl]);
    assert.equal(done.code, 0, done.err);
    assert.match(done.out, /^deleted 4 messages and 4 events sent before /);
    const left = await db.query<{ body: string }>(
      `SELECT body FROM messages WHERE body LIKE 'old-%' OR body = 'recent'`,
    );
    assert.deepEqual(
      left.rows.map((r) => r.body),
      ['recent', 'recent'],
    );
    const events = await db.query('SELECT 1 FROM events WHERE id = ANY ($1::bigint[])', [
      oldEvents.map((r) => r.event_id),
    ]);
    assert.equal(events.rowCount, 0);
    const history = await call<{ messages: { body: string }[] }>(
      `${gw.url}/restapi/v1/chat/${a.username}/messages?to=${b.username}`,
      { auth: gw.secret },
    );
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(
      history.body.messages.map((m) => m.body),
      ['recent'],
    );

    assert.equal((await cli(['purge', '--days', '0', '--database-url', gw.dbUrl])).code, 2, 'N ≥ 1');
  });

  it('lists and replays dead-lettered callbacks, through the admin API and straight from the table (--db)', async () => {
    // Rows as the callbacks feature leaves them (0006_bbb.sql); the URLs are never called: a replayed row
    // is due at once, but these checks read the table, not the receiver.
    const { rows } = await db.query<{ id: string }>(`INSERT INTO callback_outbox
        (ordering_key, url, scheme, salt, params, idempotency_key, status, attempts, last_status, last_error, dead_at, delivered_at)
      SELECT 'cli-test', 'http://127.0.0.1:9/' || n, 'rcp', 'sendMessage', '{}', 'cli-test-' || n || '-' || md5(random()::text),
             CASE WHEN n = 3 THEN 'delivered' ELSE 'dead' END, 8, CASE WHEN n = 1 THEN 502 END, 'failure ' || n,
             CASE WHEN n <> 3 THEN now() END, CASE WHEN n = 3 THEN now() END
        FROM generate_series(1, 5) AS n ORDER BY n RETURNING id`);
    const [id1, id2, , id4, id5] = rows.map((r) => r.id);
    const dead = [id1, id2, id4, id5];

    const listed = await cli(['callbacks', 'list', ...api]);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /failure 1/);
    assert.doesNotMatch(listed.out, /failure 3/, 'delivered rows are not dead letters');
    assert.match(listed.out, /4 dead-lettered callback\(s\)/);
    const viaDb = await cli(['callbacks', 'list', '--db', '--json', '--database-url', gw.dbUrl]);
    assert.deepEqual(
      (JSON.parse(viaDb.out) as { id: string }[]).map((r) => String(r.id)),
      dead,
    );

    const one = await cli(['callbacks', 'replay', id1!, '999999', ...api]);
    assert.equal(one.code, 1, '999999 is not dead-lettered');
    assert.match(one.out, new RegExp(`requeued 1 callback\\(s\\): ${id1}$`));
    const status = async (id: string) =>
      (
        await db.query<{ status: string; dead_at: Date | null }>(
          'SELECT status, dead_at FROM callback_outbox WHERE id = $1',
          [id],
        )
      ).rows[0]!;
    assert.notEqual((await status(id1!)).status, 'dead');

    const byDb = await cli(['callbacks', 'replay', id2!, '--db', '--database-url', gw.dbUrl]);
    assert.equal(byDb.code, 0, byDb.err);
    assert.deepEqual(await status(id2!), { status: 'pending', dead_at: null });

    const all = await cli(['callbacks', 'replay', '--all', '--json', ...api]);
    assert.deepEqual(JSON.parse(all.out), { replayed: 2 });
    assert.deepEqual(JSON.parse((await cli(['callbacks', 'list', '--json', ...api])).out), []);
    // Stop the gateway's dispatcher from chasing these rows for the rest of the file.
    await db.query(`DELETE FROM callback_outbox WHERE ordering_key = 'cli-test'`);
  });

  it('runs as the `parley` bin and as `npm run parley`', async () => {
    const run = promisify(execFile);
    const env = {
      ...process.env,
      PARLEY_SECRET: gw.secret,
      PARLEY_PORT: new URL(gw.url).port,
      PARLEY_HOST: '127.0.0.1',
    };
    const bin = await run(process.execPath, ['src/cli/bin.mjs', 'sessions', '--json'], { env });
    assert.ok(Array.isArray((JSON.parse(bin.stdout) as { sessions: unknown[] }).sessions));
    await assert.rejects(
      run('npm', ['run', '--silent', 'parley', '--', 'nonsense'], { env }),
      (e: { code?: number; stderr?: string }) =>
        e.code === 2 && /unknown command "nonsense"/.test(e.stderr ?? ''),
    );
  });
});
