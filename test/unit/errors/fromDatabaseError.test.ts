import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { fromDatabaseError, isDatabaseUnavailable } from '../../../src/errors/fromDatabaseError.js';
import { toBridgeError } from '../../../src/http/middleware/errorHandler.js';
import { toStanzaError } from '../../../src/errors/toStanzaError.js';

/** A server-sent error as node-postgres raises it (DatabaseError carries the SQLSTATE as `code`). */
const sqlState = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('fromDatabaseError', () => {
  it('answers 503 with Retry-After for a refused connection (a real pg pool on a closed port)', async () => {
    const pool = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${await closedPort()}/x` });
    const err = await pool.query('SELECT 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    await pool.end();
    const b = fromDatabaseError(err);
    assert.ok(b instanceof BridgeError);
    assert.equal(b.code, 'DATABASE_UNAVAILABLE');
    assert.equal(b.status, 503);
    assert.equal(b.extra.retryAfter, 5);
  });

  for (const code of ['57P01', '57P02', '57P03', '08006', '08003', '08001', '53300'])
    it(`treats SQLSTATE ${code} as an outage`, () => assert.ok(isDatabaseUnavailable(sqlState(code))));

  for (const message of [
    'Connection terminated unexpectedly',
    'Connection terminated',
    'Connection terminated due to connection timeout',
    'Client has encountered a connection error and is not queryable',
    'Client was closed and is not queryable',
    'timeout exceeded when trying to connect',
    'Cannot use a pool after calling end on the pool',
  ])
    it(`treats the driver's "${message}" as an outage`, () =>
      assert.ok(isDatabaseUnavailable(new Error(message))));

  it('finds the outage behind a cause chain or an AggregateError, and inside an INTERNAL wrapper', () => {
    const inner = sqlState('57P01', 'terminating connection due to administrator command');
    assert.ok(isDatabaseUnavailable(new Error('insert failed', { cause: inner })));
    assert.ok(isDatabaseUnavailable(new AggregateError([new Error('a'), inner])));
    assert.ok(isDatabaseUnavailable(new BridgeError('INTERNAL', undefined, { cause: inner })));
  });

  it('leaves statement errors and decided codes alone', () => {
    assert.equal(fromDatabaseError(sqlState('23505', 'duplicate key')), undefined);
    assert.equal(fromDatabaseError(sqlState('42P01', 'relation does not exist')), undefined);
    assert.equal(fromDatabaseError(new TypeError('x is undefined')), undefined);
    const conflict = new BridgeError('CONFLICT', 'dup', { cause: sqlState('57P01') });
    assert.equal(fromDatabaseError(conflict), undefined);
  });

  it('is the path every HTTP answer and every component error reply takes', () => {
    const outage = sqlState('57P01');
    const http = toBridgeError(outage);
    assert.equal(http.code, 'DATABASE_UNAVAILABLE');
    assert.equal(toBridgeError(new Error('bug')).code, 'INTERNAL');
    const el = toStanzaError(outage);
    assert.equal(el.attrs.type, 'wait');
    assert.ok(el.getChild('service-unavailable'));
  });
});
