import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { client, xml } from '@xmpp/client';
import pg from 'pg';
import { dropDatabase, freshDatabase } from '../rig/db.js';
import { rig } from '../rig/rig.js';
import { registerUser, type TestUser } from '../rig/users.js';

/** Proves the shared test rig: every server answers, and Prosody survives a stop/start cycle. */

async function login(user: TestUser): Promise<void> {
  const x = client({
    service: rig.xmpp.service,
    domain: rig.xmpp.domain,
    resource: 'rig-test',
    // PLAIN on loopback: @xmpp/client only picks it when asked, and its JS SCRAM costs ~0.4 s here.
    // The typings demand SASL2's user-agent element as a third argument; plain SASL ignores it.
    credentials: (auth, mechanisms) =>
      auth(
        { username: user.username, password: user.password },
        mechanisms.includes('PLAIN') ? 'PLAIN' : mechanisms[0]!,
        xml('user-agent', { id: randomUUID() }),
      ),
  });
  x.reconnect.stop();
  // The typings describe a generic socket; over xmpp:// it is a net.Socket.
  x.on('connect', () => (x.socket as { setNoDelay?: (on: boolean) => void } | null)?.setNoDelay?.(true));
  x.on('error', () => undefined); // start() rejects with the same error
  const address = await x.start();
  assert.equal(address.bare().toString(), user.jid);
  await x.stop();
}

function redisPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1' }, () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().trim());
    });
    sock.once('error', reject);
  });
}

describe('test rig servers', () => {
  let dbUrl: string;
  before(async () => {
    dbUrl = await freshDatabase();
  });
  after(async () => {
    await dropDatabase(dbUrl);
  });

  it('gives each test file a migrated database', async () => {
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      const { rows } = await c.query<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      assert.ok(rows.length > 0, 'schema_migrations is empty');
      assert.equal(rows[0]?.version, 1);
      const {
        rows: [db],
      } = await c.query<{ name: string }>('SELECT current_database() AS name');
      assert.notEqual(db?.name, rig.templateDb);
    } finally {
      await c.end();
    }
  });

  it('runs Redis', async () => {
    assert.equal(await redisPing(rig.redis.port), '+PONG');
  });

  it('logs a registered user into Prosody, also after a restart', async () => {
    const user = await registerUser('alice');
    await login(user);

    await rig.xmpp.stop();
    assert.equal(rig.xmpp.isRunning(), false);
    await rig.xmpp.start();
    assert.equal(rig.xmpp.isRunning(), true);

    await login(user);
    await login(await registerUser('bob'));
  });
});
