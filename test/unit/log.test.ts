import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { createLogger, outsideLogContext, prettyLine, withLogContext } from '../../src/log.js';
import { SecretBox } from '../../src/crypto/SecretBox.js';
import { EventHub } from '../../src/sse/EventHub.js';
import { createPgEventStore } from '../../src/messages/EventStore.js';
import { TimedDb } from '../../src/store/TimedDb.js';
import { AccountService } from '../../src/sessions/AccountService.js';
import { CredentialVerifier } from '../../src/sessions/CredentialVerifier.js';
import { SessionManager } from '../../src/sessions/SessionManager.js';
import { createPgSessionStore } from '../../src/sessions/SessionStore.js';

/** A logger writing into an array of parsed lines. */
function capture(level = 'debug', format: 'json' | 'pretty' = 'json') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger(level, { destination, format });
  return { log, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('censors secrets by key, credentials inside URLs and strings, and leaves the rest', () => {
    const { log, lines } = capture();
    log.info(
      {
        password: 'pw-1',
        user: 'alice',
        config: {
          secret: 'master-1',
          xmpp: { adminPassword: 'pw-2', componentSecret: 'pw-3' },
          database: { url: 'postgres://parley:pw-4@db/parley' },
        },
        headers: { authorization: 'Bearer tok-1', accept: 'application/json' },
        token: 'tok-2',
        url: 'https://chat.example.org/restapi/v1/chat/ps_x/events?token=tok-3',
        events: 'https://chat.example.org/restapi/v1/ask/jane/events?lastEventId=0&ticket=tik-1',
      },
      'hello',
    );
    const text = lines.join('\n');
    for (const secret of ['pw-1', 'pw-2', 'pw-3', 'pw-4', 'master-1', 'tok-1', 'tok-2', 'tok-3', 'tik-1'])
      assert.doesNotMatch(text, new RegExp(secret), secret);
    const o = JSON.parse(lines[0]!);
    assert.equal(o.user, 'alice');
    assert.equal(o.headers.accept, 'application/json');
    assert.equal(o.config.database.url, 'postgres://parley:***@db/parley');
    assert.equal(o.url, 'https://chat.example.org/restapi/v1/chat/ps_x/events?token=***');
    assert.equal(o.events, 'https://chat.example.org/restapi/v1/ask/jane/events?lastEventId=0&ticket=***');
  });

  it('censors the options errors carry, at any depth, and connection URLs in their messages and causes', () => {
    const { log, lines } = capture();
    const cause = new Error('auth failed for redis://:pw-5@cache:6379');
    const err = Object.assign(new Error('connect to postgres://parley:pw-6@db/parley failed', { cause }), {
      config: { connection: { options: { password: 'pw-7', host: 'db' } } },
      request: { headers: { Authorization: 'Basic pw-8' } },
    });
    log.error({ err }, 'failed');
    const text = lines.join('\n');
    for (const secret of ['pw-5', 'pw-6', 'pw-7', 'pw-8'])
      assert.doesNotMatch(text, new RegExp(secret), secret);
    const o = JSON.parse(lines[0]!);
    assert.equal(o.err.config.connection.options.host, 'db');
    assert.match(o.err.message, /postgres:\/\/parley:\*\*\*@db/);
  });

  it('adds the requestId of the context the line is logged in, and only there', async () => {
    const { log, json } = capture();
    const child = log.child({ c: 'test' });
    await withLogContext({ requestId: 'req-1' }, async () => {
      child.info('inside');
      await new Promise((r) => setTimeout(r, 1));
      child.info('after an await');
      outsideLogContext(() => child.info('detached'));
    });
    child.info('outside');
    assert.deepEqual(
      json().map((l) => [l.msg, l.requestId]),
      [
        ['inside', 'req-1'],
        ['after an await', 'req-1'],
        ['detached', undefined],
        ['outside', undefined],
      ],
    );
  });

  it('writes readable lines in pretty format', () => {
    const { log, lines } = capture('info', 'pretty');
    withLogContext({ requestId: 'req-2' }, () =>
      log
        .child({ c: 'sessions' })
        .info({ from: 'connecting', to: 'online', password: 'pw-9' }, 'session state'),
    );
    assert.match(
      lines[0]!,
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[sessions\] session state requestId=req-2 from=connecting to=online password=\[Redacted\]$/,
    );
    assert.match(
      prettyLine(
        '{"level":50,"time":"2025-05-01T09:41:00.123Z","msg":"x","err":{"type":"Error","message":"m","stack":"Error: m\\n    at f"}}',
      ),
      /^09:41:00\.123 ERROR x\n {4}Error: m\n {8}at f\n$/,
    );
  });
});

describe('createApp request logging', () => {
  it('puts the request id on every line logged while the request runs', async () => {
    const { log, json } = capture();
    const pool = new pg.Pool({ host: '127.0.0.1', port: 1 }); // never queried
    const store = createPgSessionStore(pool);
    const hub = new EventHub({ store: createPgEventStore(new TimedDb(pool)), log });
    const verifier = new CredentialVerifier({ service: 'xmpp://127.0.0.1:1', domain: 'example.org' });
    const sessions = new SessionManager({
      store,
      hub,
      log,
      verifier,
      idleSeconds: 60,
      accounts: new AccountService({
        store,
        box: new SecretBox('log-test-secret-0123'),
        domain: 'example.org',
      }),
      xmpp: { service: 'xmpp://127.0.0.1:1', domain: 'example.org', reconnectMaxSeconds: 1 },
    });
    const probe = (name: string) => async () => {
      log.child({ c: 'health' }).info({ probe: name }, 'probing');
      return true;
    };
    const app = createApp({
      log,
      maxBodyBytes: 1024,
      heartbeatMs: 15_000,
      publicUrl: (p) => p,
      sessions,
      verifier,
      hub,
      features: [],
      health: { dbPing: probe('db'), xmppPing: probe('xmpp') },
    });
    const server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const [r1, r2] = await Promise.all([
        fetch(`${base}/readyz`, { headers: { 'X-Request-Id': 'client-chosen-1' } }),
        fetch(`${base}/readyz`),
      ]);
      const ids = [r1.headers.get('x-request-id'), r2.headers.get('x-request-id')];
      assert.equal(ids[0], 'client-chosen-1');
      const lines = json().filter((l) => l.msg === 'probing');
      assert.equal(lines.length, 4);
      for (const id of ids)
        assert.equal(lines.filter((l) => l.requestId === id).length, 2, `two lines for ${id}`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    }
  });
});
