import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { recordStatements } from '../helpers/pgStatements.js';
import { SseClient } from '../helpers/sse.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string };

function liveOnly(url: string): string {
  const u = new URL(url);
  u.searchParams.delete('lastEventId');
  return u.toString();
}

/**
 * Statements that run on a timer whatever users do (the cluster heartbeat and its orphan check, the
 * callback outbox's poll): not part of a message's cost, and they may fall inside the window by chance.
 */
const BACKGROUND = /\binstances\b|callback_outbox/;

/**
 * Issue 17 target 3: every PostgreSQL statement a delivered 1:1 message costs, counted at the driver (the
 * message log's statements and any other pool query alike), from the REST send to the sender seeing the
 * delivery receipt: REST in → stored → XMPP → the recipient's copy stored → SSE → receipt stored.
 * Moderation's send policy, the token check and the session lookup are answered from memory.
 */
describe('PostgreSQL statements per delivered 1:1 message (real Prosody + PostgreSQL)', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  const tabs: SseClient[] = [];
  before(async () => {
    gw = await startGateway({ PARLEY_ACL_REFRESH_SECONDS: '3600' }); // no ACL reload inside the window
  });
  after(async () => {
    for (const t of tabs) t.close();
    await gw?.stop();
  });
  const login = async (u: TestUser): Promise<Login> => {
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.equal(r.status, 201, r.text);
    return r.body;
  };

  it('costs the sender’s insert and the recipient’s copy with the receipt: two, no transaction, no policy query', async () => {
    const [a, b] = [await registerUser('sp-alice'), await registerUser('sp-bob')];
    // A login's ready hooks (carbons, then the archive catch-up) run after its 201: a catch-up still under
    // way when the first message is sent finds it in the archive too (a second copy, deduplicated, and a
    // second receipt statement inside the window). A hook added now runs after the features' hooks.
    const caughtUp = new Set<string>();
    let allCaughtUp: () => void = () => undefined;
    const bothCaughtUp = new Promise<void>((resolve) => (allCaughtUp = resolve));
    gw.parley.sessions.onSessionReady((session) => {
      caughtUp.add(session.username);
      if (caughtUp.has(a.username) && caughtUp.has(b.username)) allCaughtUp();
    });
    const [la, lb] = [await login(a), await login(b)];
    await bothCaughtUp;
    // Streams without the login's replay cursor: a replay's read would run after the stream opened
    // (its headers come first) and could fall inside the counted window.
    const [aliceTab, bobTab] = [
      new SseClient(liveOnly(withToken(la.events, la.token))),
      new SseClient(liveOnly(withToken(lb.events, lb.token))),
    ];
    tabs.push(aliceTab, bobTab);
    await Promise.all([aliceTab.opened, bobTab.opened]);

    const messages = 3;
    const recorder = recordStatements(gw.parley.db.pool);
    try {
      for (let i = 0; i < messages; i++) {
        const body = `counted ${i}`;
        const sent = await call<{ id: string }>(
          `${gw.url}/restapi/v1/chat/${la.streamId}/messages/${b.username}`,
          { method: 'POST', auth: bearer(la.token), json: { body } },
        );
        assert.equal(sent.status, 201, sent.text);
        await bobTab.next((e) => e.name === 'chatapi.chat' && e.data.body === body);
        await aliceTab.next(
          (e) =>
            e.name === 'chatapi.receipt' &&
            e.data.status === 'delivered' &&
            e.data.messageId === sent.body.id,
        );
      }
    } finally {
      recorder.stop();
    }
    const own = recorder.statements.filter((s) => !BACKGROUND.test(s));
    assert.deepEqual(
      own.filter((s) => /moderation_account_blocks|^acl-/.test(s)),
      [],
      'the send policy asked no query',
    );
    const count = (statement: string) => own.filter((s) => s === statement).length;
    // The send: its stanza first, then its row with whatever else its turn writes (group commit), so no
    // transaction. The recipient's copy: written alone, one statement that also records the sender's
    // delivery receipt; in a batch with other rows (the sender's, say), the receipt follows in a
    // statement of its own. A receipt that overtakes the sender's row waits in memory for it, or, when the
    // copy came while that row still waited in the group commit's queue, is folded into the row's statement.
    assert.equal(count('BEGIN') + count('COMMIT'), 0, `no transaction: ${JSON.stringify(own)}`);
    const answered = count('parley-message_insert_answered');
    const folded = count('parley-message_insert_batch_delivered');
    const inserts = count('parley-message_insert') + count('parley-message_insert_batch') + answered + folded;
    assert.ok(inserts >= messages && inserts <= 2 * messages, `inserts: ${JSON.stringify(own)}`);
    const receipts = count('parley-receipt_delivered') + count('parley-receipt_batch');
    assert.ok(receipts + answered + folded >= messages, `every receipt recorded: ${JSON.stringify(own)}`);
    assert.equal(own.length, inserts + receipts, `nothing else: ${JSON.stringify(own)}`);
    // One message at a time: each copy waits for its sender's row (on its way when the copy arrives) and
    // is written alone with the receipt, or its receipt joins the row still waiting: at most two statements
    // a message, and each receipt in one of them.
    assert.equal(answered + folded, messages, `every receipt with a row: ${JSON.stringify(own)}`);
    assert.ok(own.length <= 2 * messages, `at most two per message: ${JSON.stringify(own)}`);
  });

  it('a password login: the session row and its first token in one statement, no state update', async () => {
    const u = await registerUser('sp-login');
    const recorder = recordStatements(gw.parley.db.pool);
    let l: Login;
    try {
      l = await login(u);
    } finally {
      recorder.stop();
    }
    const own = recorder.statements.filter((s) => !BACKGROUND.test(s));
    const sessions = own.filter((s) => /\bsessions\b|session_tokens/.test(s));
    assert.equal(sessions.length, 1, `one statement for the session: ${JSON.stringify(own)}`);
    assert.match(sessions[0]!, /INSERT INTO sessions[\s\S]*INSERT INTO session_tokens/);
    // The token stored with the row works, and names this session.
    const me = await call<{ streamId?: string }>(`${gw.url}/restapi/v1/chat/${l.streamId}`, {
      auth: bearer(l.token),
    });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.streamId, l.streamId);
    const row = await gw.parley.db.pool.query<{ state: string; tokens: string }>(
      `SELECT s.state, (SELECT count(*) FROM session_tokens t WHERE t.stream_id = s.stream_id) AS tokens
         FROM sessions s WHERE s.stream_id = $1`,
      [l.streamId],
    );
    assert.deepEqual(row.rows, [{ state: 'online', tokens: '1' }]);
  });
});
