import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import pg from 'pg';
import { gatewayFixture } from '../helpers/fixture.js';
import { call, withToken } from '../helpers/http.js';
import { RawStream } from '../helpers/rawStream.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; lastEventId: string };
type Problem = { code: string; status: number; detail: string };

const until = async (what: string, ok: () => boolean, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Event streams: a cap per user, no unbounded buffering for clients that do not read, paged replays. */
describe('limits: event streams', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({
    env: { PARLEY_SSE_MAX_STREAMS_PER_USER: '2', PARLEY_SSE_MAX_BUFFER_BYTES: '65536' },
  });
  const serverSockets: Socket[] = [];
  before(() => fx.gw.parley.server.on('connection', (s: Socket) => serverSockets.push(s)));
  const serverSide = (clientPort: number) => serverSockets.find((s) => s.remotePort === clientPort);

  async function login(): Promise<Login & { username: string }> {
    const u = await registerUser('sse');
    const r = await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.equal(r.status, 201, r.text);
    return { ...r.body, username: u.username };
  }
  const payload = (i: number, size: number) => ({
    type: 'chat',
    direction: 'in',
    from: 'flood@localhost',
    to: 'x@localhost',
    body: `${i}:`.padEnd(size, 'x'),
  });

  it('refuses a stream past the per-user cap with 429 TOO_MANY_STREAMS, and takes one once another closed', async () => {
    const l = await login();
    const url = withToken(l.events, l.token);
    const a = new SseClient(url);
    const b = new SseClient(url);
    fx.streams.push(a, b);
    await a.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    await b.next((e) => e.name === 'chatapi.session' && e.data.snapshot === true);
    // Read by hand: where the cap is missing, this would be an endless stream.
    const third = await RawStream.open(url);
    assert.equal(third.status, 429);
    assert.equal(third.res.headers['content-type'], 'application/problem+json');
    assert.ok(Number(third.res.headers['retry-after']) >= 1);
    assert.equal((JSON.parse((await third.drain()).text) as Problem).code, 'TOO_MANY_STREAMS');
    a.close();
    const session = fx.gw.parley.sessions.get(l.streamId)!;
    await until('the closed stream to be counted out', () => session.openStreams === 1);
    const again = await RawStream.open(url);
    assert.equal(again.status, 200);
    again.close();
  });

  /** Publishes 48 KiB events until the server drops the stream (at most 600), then 10 small ones; their ids. */
  async function floodUntilDropped(l: Login & { username: string }): Promise<string[]> {
    const session = fx.gw.parley.sessions.get(l.streamId)!;
    // 48 KiB events, far past what the kernel buffers of an unread loopback socket hold.
    const published: string[] = [];
    for (let i = 0; i < 600 && session.openStreams > 0; i++) {
      const e = await fx.gw.parley.hub.publish(l.username, 'chatapi.chat', payload(i, 48 * 1024), {
        durable: true,
      });
      published.push(e.id!);
    }
    await until('the server to drop the stream', () => session.openStreams === 0, 5000);
    for (let i = 600; i < 610; i++) {
      const e = await fx.gw.parley.hub.publish(l.username, 'chatapi.chat', payload(i, 100), {
        durable: true,
      });
      published.push(e.id!);
    }
    return published;
  }

  /** Reads what the dropped stream had delivered, resumes from its last id and expects the rest. */
  async function resumeLosesNothing(l: Login, stalled: RawStream, expected: string[]): Promise<void> {
    const first = await stalled.drain();
    const seen = first.ids.filter((id) => expected.includes(id));
    assert.ok(seen.length > 0 && seen.length < expected.length, `${seen.length} of ${expected.length}`);
    const resumed = new SseClient(withToken(l.events, l.token), {
      headers: { 'Last-Event-ID': seen.at(-1)! },
    });
    await resumed.next((e) => e.id === expected.at(-1), 20_000);
    resumed.close();
    const again = resumed.events.map((e) => e.id).filter((id) => expected.includes(id));
    assert.deepEqual([...seen, ...again], expected);
  }

  it('drops a live stream that stops reading; the client resumes with Last-Event-ID and loses nothing', async () => {
    const l = await login();
    const session = fx.gw.parley.sessions.get(l.streamId)!;
    // No cursor: nothing to replay, so the stream is live as soon as it is counted.
    const live = new URL(withToken(l.events, l.token));
    live.searchParams.delete('lastEventId');
    const stalled = await RawStream.open(live.toString());
    await until('the stream to open', () => session.openStreams === 1);
    const published = await floodUntilDropped(l);
    await resumeLosesNothing(l, stalled, published);
  });

  it('drops a stream whose reader stalls mid-replay once the live events it holds pass the limit', async () => {
    const l = await login();
    // 400 stored events of 48 KiB (19 MB): the replay's pages outgrow the socket's buffers and wait.
    const db = new pg.Client({ connectionString: fx.gw.dbUrl });
    await db.connect();
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO events (username, name, payload)
       SELECT $1, 'chatapi.chat', jsonb_build_object('type', 'chat', 'direction', 'in', 'from', 'h@localhost',
         'to', 'x@localhost', 'body', i::text || repeat('x', 48 * 1024)) FROM generate_series(1, 400) AS i
       RETURNING id::text AS id`,
      [l.username],
    );
    await db.end();
    const history = rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
    const stalled = await RawStream.open(withToken(l.events, l.token));
    // The first page (4.8 MB) is written and waits for the reader: live events from here on are held.
    await until('the replay to wait for its reader', () => {
      const sent = serverSide(stalled.localPort);
      return sent !== undefined && sent.writableLength > 65536;
    });
    // Two live events of 48 KiB pass the 64 KiB limit (a few more are published before the drop is seen);
    // a stalled replay that counted only events would hold up to 1,000 of them.
    const published = await floodUntilDropped(l);
    assert.ok(published.length <= 15, `${published.length - 10} large events published before the drop`);
    await resumeLosesNothing(l, stalled, [...history, ...published]);
  });

  it('replays a long history a page at a time, as the client reads', async () => {
    const l = await login();
    const db = new pg.Client({ connectionString: fx.gw.dbUrl });
    await db.connect();
    // 3,000 events of 8 KiB (24 MB): written in one statement, as a long history would be.
    await db.query(
      `INSERT INTO events (username, name, payload)
       SELECT $1, 'chatapi.chat', jsonb_build_object('type', 'chat', 'direction', 'in', 'from', 'h@localhost',
         'to', 'x@localhost', 'body', i::text || repeat('x', 8192)) FROM generate_series(1, 3000) AS i`,
      [l.username],
    );
    const { rows } = await db.query<{ id: string }>(
      'SELECT id::text AS id FROM events WHERE username = $1 ORDER BY events.id',
      [l.username],
    );
    await db.end();
    const reader = await RawStream.open(withToken(l.events, l.token, '0'));
    await new Promise((r) => setTimeout(r, 1500));
    const held = serverSide(reader.localPort)?.writableLength ?? -1;
    assert.ok(held >= 0 && held < 3 * 1024 * 1024, `the server holds ${held} unread bytes for the stream`);
    const session = fx.gw.parley.sessions.get(l.streamId)!;
    assert.equal(session.openStreams, 1, 'a replaying stream that waits for its reader is not dropped');
    const { ids } = await reader.drain(rows.at(-1)!.id);
    assert.deepEqual(
      ids,
      rows.map((r) => r.id),
    );
  });
});
