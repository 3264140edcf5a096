import assert from 'node:assert/strict';
import pg from 'pg';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { expectResponseMatchesSpec } from '../helpers/openapi.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser, type TestUser } from '../rig/users.js';
import { dropLink } from '../helpers/xmppLink.js';

type Login = { streamId: string; token: string; events: string; lastEventId: string };

/** `name{a="1",b="2"} 3` lines → Map('name{a="1",b="2"}' → 3); labels keep the exposition's order. */
function parseExposition(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    series.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return series;
}

describe('GET /metrics against real Prosody + PostgreSQL', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  const streams: SseClient[] = [];
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    for (const s of streams) s.close();
    await gw?.stop();
  });

  const scrape = async (): Promise<Map<string, number>> => {
    const r = await call(`${gw.url}/metrics`, { auth: bearer(gw.secret) });
    assert.equal(r.status, 200, r.text);
    expectResponseMatchesSpec('GET', '/metrics', r.status, r.contentType, r.text);
    assert.match(r.contentType, /^text\/plain; version=0\.0\.4/);
    return parseExposition(r.text);
  };
  const value = (m: Map<string, number>, key: string): number => {
    assert.ok(m.has(key), `no series ${key}`);
    return m.get(key)!;
  };
  const login = async (u: TestUser): Promise<Login> => {
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.equal(r.status, 201, r.text);
    return r.body;
  };

  it('needs the master secret (401 without credentials, 403 with a session token)', async () => {
    const none = await call(`${gw.url}/metrics`);
    assert.equal(none.status, 401);
    expectResponseMatchesSpec('GET', '/metrics', none.status, none.contentType, none.body);
    const u = await registerUser('scraper');
    const l = await login(u);
    const token = await call(`${gw.url}/metrics`, { auth: bearer(l.token) });
    assert.equal(token.status, 403);
    await call(`${gw.url}/restapi/v1/chat/${l.streamId}/logoff`, { method: 'POST', auth: bearer(l.token) });
  });

  it('has the named series, and they move after a login, a message and a replay', async () => {
    const before = await scrape();
    for (const name of [
      'parley_sessions',
      'parley_sse_streams',
      'parley_callback_outbox_depth',
      'parley_callback_outbox_oldest_age_seconds',
      'parley_callback_outbox_dead',
      'parley_xmpp_reconnects_total{resumed="true"}',
      'parley_xmpp_messages_total{direction="in",kind="chat"}',
      'parley_xmpp_messages_total{direction="out",kind="chat"}',
      'parley_store_query_duration_seconds_count{operation="event_insert"}',
      'parley_store_query_duration_seconds_count{operation="message_insert"}',
      'parley_store_query_duration_seconds_count{operation="event_replay"}',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ])
      value(before, name);
    assert.equal(value(before, 'parley_callback_outbox_depth'), 0);

    const [a, b] = [await registerUser('mx-alice'), await registerUser('mx-bob')];
    const [la, lb] = [await login(a), await login(b)];
    const bobTab = new SseClient(withToken(lb.events, lb.token, '0')); // lastEventId=0: a replay from the store
    streams.push(bobTab);
    await bobTab.opened;
    await bobTab.next((e) => e.name === 'chatapi.session' && e.data.type === 'online' && e.id !== '');
    const sent = await call(`${gw.url}/restapi/v1/chat/${la.streamId}/messages/${b.username}`, {
      method: 'POST',
      auth: bearer(la.token),
      json: { body: 'counted' },
    });
    assert.equal(sent.status, 201, sent.text);
    await bobTab.next((e) => e.name === 'chatapi.chat' && e.data.body === 'counted');

    const after = await scrape();
    const moved = (key: string) => value(after, key) - (before.get(key) ?? 0);
    assert.equal(value(after, 'parley_sessions'), 2);
    assert.equal(value(after, 'parley_sse_streams'), 1);
    assert.ok(
      moved('parley_xmpp_messages_total{direction="out",kind="chat"}') >= 1,
      'Alice sent a chat message',
    );
    assert.ok(moved('parley_xmpp_messages_total{direction="in",kind="chat"}') >= 1, 'Bob received it');
    // Rows reach the log alone (message_insert), with others of the same moment (message_insert_batch), or
    // with the delivery receipt folded in when the copy came while the send's row still waited.
    const absentIsZero = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    const insertOps = ['message_insert', 'message_insert_batch', 'message_insert_batch_delivered'];
    assert.ok(
      insertOps.reduce(
        (n, op) => n + absentIsZero(`parley_store_query_duration_seconds_count{operation="${op}"}`),
        0,
      ) >= 1,
      'store message inserts observed',
    );
    for (const op of ['event_insert', 'event_replay']) {
      assert.ok(
        moved(`parley_store_query_duration_seconds_count{operation="${op}"}`) >= 1,
        `store ${op} observed`,
      );
    }
    // The message log's round trips for one 1:1 message between two users of this gateway: the send joins
    // the group commit (no transaction of its own: the stanza goes out first, the 201 waits for the row),
    // and so does the recipient's copy. Alone (nothing else arrived with them) each is written at once with
    // the single-row statement; grouping concurrent writes into fewer statements is counted in
    // groupCommit.test.ts. A new statement on this path shows up here.
    const inserts = insertOps.reduce(
      (n, op) => n + absentIsZero(`parley_store_round_trips_total{statement="${op}"}`),
      0,
    );
    assert.ok(inserts >= 1 && inserts <= 2, `${inserts} insert statements for the row and the copy`);
    for (const statement of ['begin', 'commit'])
      assert.equal(absentIsZero(`parley_store_round_trips_total{statement="${statement}"}`), 0, statement);
    const route = (method: string, template: string, status: string) =>
      `parley_http_request_duration_seconds_count{method="${method}",route="${template}",status_class="${status}"}`;
    assert.ok(value(after, route('POST', '/restapi/v1/chat/:streamid/messages/:to', '2xx')) >= 1);
    assert.ok(value(after, route('POST', '/restapi/v1/chat/:username/login', '2xx')) >= 2);
    assert.ok(
      value(after, route('GET', '/restapi/v1/chat/:streamid/events', '2xx')) >= 1,
      'SSE observed with the status it wrote',
    );
    assert.ok(value(after, route('GET', '/metrics', '4xx')) >= 1, 'the refused scrapes of the first test');
    const labels = [...after.keys()]
      .filter((k) => k.startsWith('parley_http_request_duration_seconds_count'))
      .join('\n');
    assert.doesNotMatch(labels, /ps_|mx-alice|mx-bob/, 'route labels are templates, never raw URLs');

    await call(`${gw.url}/no/such/path/${lb.streamId}`, { auth: bearer(gw.secret) });
    assert.ok(value(await scrape(), route('GET', '(unmatched)', '4xx')) >= 1);
  });

  it("counts a reconnect when a session's XMPP connection drops", async () => {
    const u = await registerUser('mx-drop');
    const l = await login(u);
    const before = await scrape();
    const total = (m: Map<string, number>) =>
      value(m, 'parley_xmpp_reconnects_total{resumed="true"}') +
      value(m, 'parley_xmpp_reconnects_total{resumed="false"}');
    const session = gw.parley.sessions.get(l.streamId)!;
    const back = new Promise<void>((resolve) => session.once('ready', () => resolve()));
    dropLink(session.client);
    await back;
    assert.equal(total(await scrape()) - total(before), 1);
  });

  it('reads the callback outbox depth, oldest age and dead letters', async () => {
    const db = new pg.Client({ connectionString: gw.dbUrl });
    await db.connect();
    try {
      // Rows as the callbacks feature writes them (0006_bbb.sql); the pending ones are not due for an hour,
      // so the gateway's dispatcher leaves them alone while we read the gauges.
      await db.query(`INSERT INTO callback_outbox
          (ordering_key, url, scheme, salt, params, idempotency_key, status, next_attempt_at, created_at, delivered_at, dead_at)
        SELECT 'metrics-test', 'http://127.0.0.1:9/cb', 'rcp', 'sendMessage', '{}', 'metrics-test-' || n, s,
               now() + interval '1 hour', now() - make_interval(secs => age), CASE WHEN s = 'delivered' THEN now() END,
               CASE WHEN s = 'dead' THEN now() END
          FROM (VALUES (1, 'pending', 90), (2, 'pending', 10), (3, 'delivered', 3600), (4, 'dead', 7200)) AS v (n, s, age)`);
      await new Promise((r) => setTimeout(r, 1100)); // past the collector's one-second cache
      const m = await scrape();
      assert.equal(value(m, 'parley_callback_outbox_depth'), 2);
      assert.equal(value(m, 'parley_callback_outbox_dead'), 1);
      const age = value(m, 'parley_callback_outbox_oldest_age_seconds');
      assert.ok(age >= 90 && age < 120, `oldest pending is ~90 s old, got ${age}`);
      await db.query(`DELETE FROM callback_outbox WHERE ordering_key = 'metrics-test'`);
    } finally {
      await db.end();
    }
  });
});
