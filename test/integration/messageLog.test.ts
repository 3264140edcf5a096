import assert from 'node:assert/strict';
import pg from 'pg';
import { createPgEventStore } from '../../src/messages/EventStore.js';
import { createPgMessageLog } from '../../src/messages/createPgMessageLog.js';
import { TimedDb } from '../../src/store/TimedDb.js';
import { EVENT_NAMES } from '../../src/sse/events.js';
import { RecordingSink } from '../helpers/FakeMessageLog.js';
import { messageLogContract } from '../helpers/messageLogContract.js';
import { dropDatabase, freshDatabase } from '../rig/db.js';

describe('the message log on PostgreSQL (the contract FakeMessageLog keeps)', () => {
  let url: string;
  let pool: pg.Pool;
  before(async () => {
    url = await freshDatabase();
    pool = new pg.Pool({ connectionString: url, max: 2 });
  });
  after(async () => {
    await pool.end();
    await dropDatabase(url);
  });

  messageLogContract(async () => {
    const db = new TimedDb(pool);
    const sink = new RecordingSink();
    return { log: createPgMessageLog({ db, events: createPgEventStore(db), sink }), sink };
  });

  it('sends through BEGIN + insert + stanza + COMMIT after a write failed, until one succeeds', async () => {
    const names: string[] = [];
    const db = new TimedDb(pool, { statement: (name) => names.push(name) });
    const log = createPgMessageLog({ db, events: createPgEventStore(db), sink: new RecordingSink() });
    const owner = `health${Date.now()}`;
    const send = (body: string, id: string, transmitted: string[]) =>
      log.append(
        {
          owner,
          kind: 'chat',
          direction: 'out',
          peer: 'peer@example.test',
          fromJid: `${owner}@example.test/r`,
          toJid: 'peer@example.test',
          body,
          messageId: id,
        },
        { name: EVENT_NAMES.chat, payload: { type: 'chat', body } },
        {
          transmit: async () => {
            transmitted.push(id);
          },
        },
      );
    const transmitted: string[] = [];
    // PostgreSQL refuses a NUL character in text: the write fails after the stanza went out.
    await assert.rejects(send('bad \u0000', 'h1', transmitted));
    assert.deepEqual(transmitted, ['h1'], 'sent first');
    names.length = 0;
    assert.ok(await send('strict', 'h2', transmitted));
    assert.deepEqual(
      names.filter((n) => n === 'begin' || n === 'commit'),
      ['begin', 'commit'],
      'the strict path: a database that fails refuses before the stanza',
    );
    names.length = 0;
    assert.ok(await send('grouped', 'h3', transmitted));
    assert.deepEqual(names, ['message_insert'], 'healthy again: one statement');
  });
});
