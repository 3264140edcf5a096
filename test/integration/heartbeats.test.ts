import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { call, withToken } from '../helpers/http.js';
import { RawStream } from '../helpers/rawStream.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string };

/** Heartbeat comments keep idle event streams open through proxies (src/sse/Heartbeats.ts). */
describe('event stream heartbeats (PARLEY_SSE_HEARTBEAT_SECONDS=2)', function () {
  this.timeout(30_000);
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ PARLEY_SSE_HEARTBEAT_SECONDS: '2' });
  });
  after(async () => {
    await gw?.stop();
  });

  it('sends every idle stream a comment in each interval', async () => {
    const u = await registerUser('beat');
    const l = (
      await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } })
    ).body;
    const streams = await Promise.all([1, 2, 3, 4].map(() => RawStream.open(withToken(l.events, l.token))));
    const got = streams.map(() => [] as number[]);
    const t0 = Date.now();
    streams.forEach((s, i) => {
      s.res.on('data', (c: Buffer) => {
        if (c.toString('utf8').includes(':\n\n')) got[i]!.push(Date.now() - t0);
      });
      s.res.resume();
    });
    await new Promise((r) => setTimeout(r, 6000));
    for (const s of streams) s.res.destroy();
    // Three intervals: each stream beats once in each (two at the least, whatever the timers' phase).
    got.forEach((beats, i) => assert.ok(beats.length >= 2, `stream ${i} had ${beats.length} heartbeats`));
  });
});
