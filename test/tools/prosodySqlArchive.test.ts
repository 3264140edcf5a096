import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { client, type Client } from '@xmpp/client';
import xml, { type Element } from '@xmpp/xml';
import pg from 'pg';
import { startProsody, type RunningProsody } from '../../tools/servers/prosody.js';
import { rig } from '../rig/rig.js';

/**
 * The rig's Prosody with its archives in PostgreSQL, as the Ansible role deploys it (LuaDBI's driver,
 * Debian's lua-dbi-postgresql; `npm run bench -- --prosody-archive sql`): a message two plain clients
 * exchange is stored in the `prosodyarchive` table and comes back from a MAM query. A Prosody of its own on
 * a database of its own in the rig's PostgreSQL, whichever XMPP server the rest of the suite runs on.
 */
describe("the rig's Prosody with archives in PostgreSQL", () => {
  const database = `prosody_arch_${randomBytes(4).toString('hex')}`;
  let dir: string;
  let prosody: RunningProsody;
  let admin: pg.Client;
  const clients: Client[] = [];

  before(async () => {
    admin = new pg.Client({ connectionString: rig.postgres.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    dir = await mkdtemp(join(tmpdir(), 'parley-prosody-sql-'));
    prosody = await startProsody({
      dir,
      componentSecret: 'c',
      adminPassword: 'a',
      archiveStorage: 'sql',
      sql: {
        driver: 'PostgreSQL',
        database,
        host: rig.postgres.host,
        port: rig.postgres.port,
        username: 'postgres',
      },
    });
    await prosody.register('arca', 'pw-a');
    await prosody.register('arcb', 'pw-b');
  });
  after(async () => {
    for (const c of clients) await c.stop().catch(() => undefined);
    await prosody?.stop();
    await admin?.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await admin?.end();
    await rm(dir, { recursive: true, force: true });
  });

  const connect = async (username: string, password: string): Promise<Client> => {
    const x = client({
      service: prosody.service,
      domain: prosody.domain,
      resource: 'arc',
      credentials: ((auth: (c: object, m: string) => Promise<void>) =>
        auth({ username, password }, 'PLAIN')) as never,
    });
    x.reconnect.stop();
    x.on('error', () => undefined);
    clients.push(x);
    await x.start();
    // Available (initial presence), or a message to the bare JID would go to offline storage.
    await x.send(xml('presence'));
    return x;
  };
  const next = (x: Client, match: (s: Element) => boolean): Promise<Element> =>
    new Promise((resolve) => {
      const on = (s: Element) => {
        if (!match(s)) return;
        x.removeListener('stanza', on);
        resolve(s);
      };
      x.on('stanza', on);
    });

  it('writes through LuaDBI to PostgreSQL, as the role configures it', async () => {
    const config = await readFile(join(dir, 'prosody.cfg.lua'), 'utf8');
    assert.match(config, /^storage = \{ archive = "sql" \}$/m);
    assert.match(config, new RegExp(`^sql = \\{ driver = "PostgreSQL", database = "${database}"`, 'm'));
    const role = await readFile('ansible/roles/prosody/templates/prosody.cfg.lua.j2', 'utf8');
    assert.match(role, /driver = "PostgreSQL"/);
  });

  it('archives a message in PostgreSQL and answers a MAM query with it', async () => {
    const a = await connect('arca', 'pw-a');
    const b = await connect('arcb', 'pw-b');
    const body = `in postgres ${randomBytes(3).toString('hex')}`;
    const arrived = next(b, (s) => s.is('message') && s.getChildText('body') === body);
    await a.send(
      xml('message', { to: `arcb@${prosody.domain}`, type: 'chat', id: 'arc1' }, xml('body', {}, body)),
    );
    await arrived;

    const db = new pg.Client({ connectionString: rig.postgres.adminUrl(database) });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM prosodyarchive WHERE "user" = 'arca' AND value LIKE $1`,
        [`%${body}%`],
      );
      assert.equal(Number(rows[0]!.n), 1, "the sender's archive row is in PostgreSQL");
    } finally {
      await db.end();
    }

    const queryid = 'q1';
    const result = next(
      a,
      (s) => s.is('message') && s.getChild('result', 'urn:xmpp:mam:2')?.attrs.queryid === queryid,
    );
    await a.iqCaller.request(
      xml('iq', { type: 'set', id: 'mam1' }, xml('query', { xmlns: 'urn:xmpp:mam:2', queryid })),
      10_000,
    );
    const forwarded = (await result)
      .getChild('result', 'urn:xmpp:mam:2')!
      .getChild('forwarded', 'urn:xmpp:forward:0')!;
    assert.equal(forwarded.getChild('message')?.getChildText('body'), body);
  });
});
