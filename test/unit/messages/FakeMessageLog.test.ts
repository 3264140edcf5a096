import { FakeMessageLog, RecordingSink } from '../../helpers/FakeMessageLog.js';
import { messageLogContract } from '../../helpers/messageLogContract.js';

describe('FakeMessageLog (the message log contract, in memory)', () => {
  messageLogContract(async () => {
    const sink = new RecordingSink();
    return { log: new FakeMessageLog(sink), sink };
  });
});
