import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { call } from '../helpers/http.js';
import { rig } from '../rig/rig.js';
import { serverKind } from '../rig/serverKind.js';

/** `npm run demo` minus the install step: Prosody (or ejabberd) + embedded PGlite + Parley from one data dir. */
interface Demo {
  child: ChildProcess;
  url: string;
  secret: string;
  stop(): Promise<void>;
}

async function startDemo(dataDir: string): Promise<Demo> {
  // The demo on the rig's kind of XMPP server (`npm run demo -- --server ejabberd` on the ejabberd pass).
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--server', serverKind()], {
    env: {
      ...process.env,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_PORT: '0',
      PARLEY_LOG_LEVEL: 'warn',
      DATABASE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  while (!/Master secret:\s+\S+/.test(out)) {
    if (child.exitCode !== null) throw new Error(`demo exited early:\n${out}`);
    if (Date.now() - started > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`demo did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /Explorer[^:]*:\s+(http:\/\/\S+)\/docs/.exec(out)![1]!;
  const secret = /Master secret:\s+(\S+)/.exec(out)![1]!;
  return {
    child,
    url,
    secret,
    async stop() {
      child.kill('SIGINT');
      await exited;
    },
  };
}

describe('npm run demo (embedded Postgres, no DATABASE_URL)', function () {
  this.timeout(120_000);
  let demo: Demo | undefined;
  after(async () => {
    await demo?.stop();
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
});
