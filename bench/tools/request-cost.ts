import { spawn } from 'node:child_process';
import pg from 'pg';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../tools/servers/freePort.js';
import { writeProsodyAccounts } from '../lib/accounts.js';
import { makeAgent, openSse, request, type HttpReply } from '../lib/http.js';
import { buildGateway, startParleyProcess } from '../lib/parley.js';
import { contextSwitches, cpuMs } from '../lib/proc.js';
import { gatewayEnv, startToolServers } from '../lib/servers.js';
import { eventsUrl, parleyLogin } from '../load/drivers.js';

/**
 * What one request costs the gateway, from the cheapest to a delivered message, beside a bare Node HTTP
 * server answering the same way: the floor under every figure of the benchmark on this machine (issue 17).
 * Closed loop, `--concurrency` requests in flight over keep-alive connections, each kind for `--seconds`;
 * CPU (utime + stime) and context switches of the serving process per request.
 *
 *   node --import tsx bench/tools/request-cost.ts [--seconds 6] [--concurrency 4] [--rounds 2] [--only message]
 *     [--cpu-prof DIR] [--root DIR]
 *
 * Kinds: a bare `http.createServer` POST; `/healthz` (Koa and the global middleware); an authenticated GET
 * answered from memory (presence); an authenticated POST that sends one stanza (a chat state); a 1:1 message
 * between two users of the gateway with both event streams open (stored twice, delivered, receipt); a 1:1
 * message refused at the door (429 SEND_QUEUE_FULL: on a second gateway whose `messages` table the tool
 * locks, so 24 sends of that session stay in progress and the adaptive bound falls to its floor of 16).
 */

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const SECONDS = Number(arg('seconds', '6'));
const CONCURRENCY = Number(arg('concurrency', '4'));
const ROUNDS = Number(arg('rounds', '2'));
const ONLY = arg('only', '');
const CPU_PROF = arg('cpu-prof', '');
/** the checkout whose gateway is measured (built there); default this one */
const ROOT = arg('root', '') || undefined;

const BARE_SERVER = `import http from 'node:http';
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
}).listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));`;

const servers = await startToolServers('request-cost');
const stopAll: (() => Promise<unknown>)[] = [() => servers.prosody.stop(), () => servers.postgres.stop()];
try {
  await writeProsodyAccounts(
    join(servers.prosody.dir, 'data'),
    servers.prosody.domain,
    ['rqa', 'rqb', 'rqc'],
    servers.password,
  );
  const parley = await startParleyProcess({
    label: 'request-cost',
    port: await freePort(),
    env: await gatewayEnv(servers, 'request_cost'),
    ...(ROOT && { root: ROOT }),
    entry: await buildGateway(ROOT),
    ...(CPU_PROF ? { cpuProfDir: CPU_PROF } : {}),
  });
  stopAll.unshift(() => parley.stop());

  const barePort = await freePort();
  const bareFile = join(await mkdtemp(join(tmpdir(), 'parley-request-cost-')), 'bare.mjs');
  await writeFile(bareFile, BARE_SERVER);
  const bare = spawn(process.execPath, [bareFile, String(barePort)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  stopAll.unshift(async () => bare.kill());
  await new Promise((resolve) => bare.once('message', resolve));

  const agent = makeAgent(CONCURRENCY);
  const a = await parleyLogin(parley.url, 'rqa', servers.password, agent);
  const b = await parleyLogin(parley.url, 'rqb', servers.password, agent);
  const streams = [openSse(eventsUrl(a), () => undefined), openSse(eventsUrl(b), () => undefined)];
  stopAll.unshift(async () => streams.forEach((s) => s.close()));
  await Promise.all(streams.map((s) => s.opened));

  const api = `${parley.url}/restapi/v1/chat/${a.streamId}`;
  const auth = { Authorization: `Bearer ${a.token}` };
  const to = encodeURIComponent(`${b.jid}/${b.resource}`);
  // The refused kind's gateway: its sends stuck behind a lock on their table, the bound at its floor.
  const refusing = await gatewayEnv(servers, 'request_cost_refused');
  const busy = await startParleyProcess({
    label: 'request-cost-refused',
    port: await freePort(),
    env: refusing,
    ...(ROOT && { root: ROOT }),
    entry: await buildGateway(ROOT),
  });
  stopAll.unshift(() => busy.stop());
  const c = await parleyLogin(busy.url, 'rqc', servers.password, agent);
  const lock = new pg.Client({ connectionString: refusing.DATABASE_URL });
  await lock.connect();
  await lock.query('BEGIN');
  await lock.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
  const stuckApi = `${busy.url}/restapi/v1/chat/${c.streamId}/messages/${encodeURIComponent(a.jid)}`;
  const stuckAuth = { Authorization: `Bearer ${c.token}`, 'Content-Type': 'text/plain; charset=utf-8' };
  const stuckAgent = makeAgent(32);
  const stuck = Array.from({ length: 24 }, () =>
    request(stuckAgent, 'POST', stuckApi, { headers: stuckAuth, body: 'stuck' }),
  );
  stopAll.unshift(async () => {
    await lock.query('ROLLBACK');
    await lock.end();
    await Promise.allSettled(stuck);
  });
  await new Promise((r) => setTimeout(r, 1000)); // three intervals over the target and more: the floor

  const kinds: { name: string; pid: number; send: () => Promise<HttpReply> }[] = [
    {
      name: 'bare node http POST',
      pid: bare.pid!,
      send: () => request(agent, 'POST', `http://127.0.0.1:${barePort}/`, { body: 'hello' }),
    },
    { name: 'GET /healthz', pid: parley.pid, send: () => request(agent, 'GET', `${parley.url}/healthz`) },
    {
      name: 'GET presence (authenticated)',
      pid: parley.pid,
      send: () => request(agent, 'GET', `${api}/presence`, { headers: auth }),
    },
    {
      name: 'POST chat state (one stanza out)',
      pid: parley.pid,
      send: () => request(agent, 'POST', `${api}/chatstate/composing/${to}`, { headers: auth }),
    },
    {
      name: 'POST message (stored, delivered)',
      pid: parley.pid,
      send: () =>
        request(agent, 'POST', `${api}/messages/${to}`, {
          headers: { ...auth, 'Content-Type': 'text/plain; charset=utf-8' },
          body: 'hello there',
        }),
    },
    {
      name: 'POST message refused (429)',
      pid: busy.pid,
      send: () => request(agent, 'POST', stuckApi, { headers: stuckAuth, body: 'hello there' }),
    },
  ];
  for (let round = 1; round <= ROUNDS; round++)
    for (const k of kinds.filter((x) => !ONLY || x.name.includes(ONLY))) {
      const until = Date.now() + SECONDS * 1000;
      const statuses: Record<number, number> = {};
      let n = 0;
      const cpu0 = cpuMs(k.pid);
      const switches0 = contextSwitches(k.pid);
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (Date.now() < until) {
            const r = await k.send();
            statuses[r.status] = (statuses[r.status] ?? 0) + 1;
            n++;
          }
        }),
      );
      const cpu = cpuMs(k.pid) - cpu0;
      const switches = contextSwitches(k.pid) - switches0;
      process.stdout.write(
        `round ${round} ${k.name.padEnd(34)} ${String(Math.round(n / SECONDS)).padStart(6)} req/s` +
          ` ${String(Math.round((cpu * 1000) / n)).padStart(5)} µs CPU/req ${(switches / n).toFixed(2)} switches/req` +
          ` ${JSON.stringify(statuses)}\n`,
      );
    }
} finally {
  for (const stop of stopAll) await stop().catch(() => undefined);
}
process.exit(0);
