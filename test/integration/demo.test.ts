import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { startDemo, type Demo } from '../helpers/demo.js';
import { call } from '../helpers/http.js';
import { rig } from '../rig/rig.js';

describe('npm run demo (embedded Postgres, no DATABASE_URL)', function () {
  this.timeout(120_000);
  let demo: Demo | undefined;
  // After each test: the next one starts its own demo, and one left running outlives mocha's --exit.
  afterEach(async () => {
    await demo?.stop();
    demo = undefined;
  });

  it('serves logins, and keeps accounts, events and the secret across a restart', async () => {
    const dir = await mkdtemp(join(rig.tmp, 'demo-'));
    demo = await startDemo(dir);
    const first = await call<{ streamId: string; token: string }>(
      `${demo.url}/restapi/v1/chat/demo-user/login`,
      { method: 'POST', auth: demo.secret },
    );
    assert.equal(first.status, 201, first.text);
    assert.equal((await call(`${demo.url}/readyz`)).status, 200);
    const secret = demo.secret;
    await demo.stop();

    demo = await startDemo(dir);
    assert.equal(demo.secret, secret, 'the generated master secret is kept in the data dir');
    // The session outlived the restart (same stream id, the first token still valid), and a master-secret
    // login joins it again: that needs the account's stored password, so PGlite kept it.
    const again = await call<{ streamId: string; token: string }>(
      `${demo.url}/restapi/v1/chat/demo-user/login`,
      { method: 'POST', auth: demo.secret },
    );
    assert.ok(again.status === 200 || again.status === 201, again.text);
    assert.equal(again.body.streamId, first.body.streamId);
    const old = await call(`${demo.url}/restapi/v1/chat/${first.body.streamId}`, {
      auth: `Bearer ${first.body.token}`,
    });
    assert.equal(old.status, 200, old.text);
    // The events of the first run are still there: replay from 0 sees the first run's online.
    const res = await fetch(
      `${demo.url}/restapi/v1/chat/${again.body.streamId}/events?token=${again.body.token}&lastEventId=0`,
    );
    const reader = res.body!.getReader();
    let text = '';
    while ((text.match(/^id:/gm) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    assert.ok((text.match(/^id:/gm) ?? []).length >= 2, 'online (first run), online (restored)');
  });

  it('runs the BigBlueButton bridge on its own Redis, with the printed secret', async () => {
    const dir = await mkdtemp(join(rig.tmp, 'demo-bbb-'));
    demo = await startDemo(dir);
    const bbbSecret = /BBB_SECRET=([0-9a-f]{64})/.exec(demo.output())?.[1];
    assert.ok(bbbSecret, demo.output());
    const running = await call<{ count: number; chat_ids: string[] }>(`${demo.url}/api/runningChats`);
    assert.equal(running.status, 200, running.text);
    assert.deepEqual(running.body.count, 0);
    // A v2 call signed with the printed secret is accepted (BBB-Chat's RCP checksum: sha512 of the salt,
    // the parameters as sorted key+value, the secret and the epoch).
    const epoch = Math.floor(Date.now() / 1000);
    const checksum = createHash('sha512')
      .update(`startChatchat_iddemo-meetingchat_userBridge${bbbSecret}${epoch}`)
      .digest('hex');
    const started = await call<{ success: boolean; message: string }>(`${demo.url}/api/startChat`, {
      json: { chat_id: 'demo-meeting', chat_user: 'Bridge', checksum },
    });
    assert.equal(started.status, 200, started.text);
    assert.equal(started.body.success, true, started.text);
  });
});
