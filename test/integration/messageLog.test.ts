import pg from 'pg';
import { createPgEventStore } from '../../src/messages/EventStore.js';
import { createPgMessageLog } from '../../src/messages/createPgMessageLog.js';
import { TimedDb } from '../../src/store/TimedDb.js';
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
});
