import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import xml, { Parser, type Element } from '@xmpp/xml';
import { freePort } from '../../tools/servers/freePort.js';
import { startPostgres, type RunningPostgres } from '../../tools/servers/postgres.js';
import { startProsody, SMACKS_MAX_UNACKED } from '../../tools/servers/prosody.js';
import { userNames, writeProsodyAccounts } from '../lib/accounts.js';
import { prosodyPid } from '../lib/context.js';
import { makeAgent, openSse, request, type SseStream } from '../lib/http.js';
import { startParleyProcess } from '../lib/parley.js';
import { cpuMs } from '../lib/proc.js';
import { connectXmpp, eventsUrl, parleyLogin, stopXmpp } from '../load/drivers.js';

/**
 * What each path puts on the XMPP wire per message, counted, and what Prosody spends on it (issue 17
 * item 2: "no stanza on the wire that a user did not cause").
 *
 * Every c2s connection (Parley's user sessions and the raw clients alike) goes through a counting proxy in
 * front of Prosody; each top-level element is classified (name, type, child elements) per user and
 * direction. One window per path: N messages A → B at a user's pace (--rate), then a quiet tail long
 * enough for batched XEP-0198 requests to go out, so every stanza a message caused is counted.
 * The login of the two Parley users is counted too. Each `--variants` entry (Prosody's
 * `smacks_max_unacked_stanzas`) gets a fresh Prosody and gateway, measured in the same run.
 *
 *   node --import tsx bench/tools/wire-capture.ts [--messages 100] [--rate 10] [--variants 0,10]
 *     [--parley-root DIR] [--label X]
 *
 * Writes bench/results/<date>-wire-<label>.json and prints a table per variant.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const MESSAGES = Number(arg('messages', '100'));
const RATE = Number(arg('rate', '10'));
// `N` is smacks_max_unacked_stanzas; `N:noarchive` also keeps receipts out of MAM (dont_archive_namespaces)
const VARIANTS = arg('variants', `0,${SMACKS_MAX_UNACKED}`).split(',');
const NO_ARCHIVE_RECEIPTS =
  'dont_archive_namespaces = { "http://jabber.org/protocol/chatstates"; "urn:xmpp:receipts" }';
const PARLEY_ROOT = arg('parley-root', ROOT);
const LOGINS = Number(arg('logins', '40')); // per kind: raw c2s logins, then Parley REST logins
const LABEL = arg('label', 'current');
const QUIET_MS = 7000; // > Parley's 5 s ack quiet period (ackPolicy.ts)
const log = (msg: string): void => {
  process.stderr.write(`[wire] ${msg}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `message chat [body data markable origin-id request]`, `r`, `a`, `iq result [ ]`, … */
export function classify(el: Element): string {
  const type = el.attrs.type ? ` ${String(el.attrs.type)}` : '';
  const kids = el.children
    .filter((c): c is Element => typeof c !== 'string')
    .map((c) => c.name.replace(/^.*:/, ''))
    .sort();
  return `${el.name}${type}${kids.length ? ` [${kids.join(' ')}]` : ''}`;
}

type Tally = Map<string, number>; // `${user} ${dir} ${class}` → count

/** A TCP proxy to Prosody's c2s port that counts top-level elements per authenticated user and direction. */
async function countingProxy(target: number): Promise<{ port: number; tally: Tally; close(): void }> {
  const tally: Tally = new Map();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    let user = '?';
    const counter = (dir: 'c2s' | 's2c') => {
      let parser = fresh();
      function fresh(): Parser {
        const p = new Parser();
        p.on('element', (el: Element) => {
          if (dir === 'c2s' && el.is('auth')) {
            const plain = Buffer.from(el.text(), 'base64').toString('utf8').split('\0');
            user = plain[1] ?? user;
          }
          const k = `${user.replace(/\d+$/, '')} ${dir} ${classify(el)}`;
          tally.set(k, (tally.get(k) ?? 0) + 1);
        });
        p.on('error', () => undefined);
        return p;
      }
      return (d: Buffer): void => {
        const s = d.toString('utf8');
        // A stream restart (after SASL) opens a new document: start a new parser at its header.
        const at = s.search(/<\?xml|<stream:stream/);
        if (at >= 0) {
          if (at > 0) parser.write(s.slice(0, at));
          parser = fresh();
          parser.write(s.slice(at));
        } else parser.write(s);
      };
    };
    const up = counter('c2s');
    const down = counter('s2c');
    client.on('data', (d: Buffer) => {
      up(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      down(d);
      client.write(d);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    tally,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

const diff = (after: Tally, before: Tally, per: number): Record<string, number> =>
  Object.fromEntries(
    [...after]
      .map(([k, v]) => [k, Math.round(((v - (before.get(k) ?? 0)) / per) * 100) / 100] as const)
      .filter(([, v]) => v > 0)
      .sort((a, b) => a[0].localeCompare(b[0])),
  );

const total = (d: Record<string, number>): number =>
  Math.round(Object.values(d).reduce((a, b) => a + b, 0) * 100) / 100;

interface Window {
  stanzasPerMessage: Record<string, number>;
  totalPerMessage: number;
  prosodyCpuUsPerMessage: number;
  gatewayCpuUsPerMessage?: number;
  delivered: number;
}

async function measure(
  tally: Tally,
  prosody: number,
  gateway: number | undefined,
  send: (i: number) => Promise<void>,
  delivered: () => number,
): Promise<Window> {
  await sleep(QUIET_MS); // what login and set-up caused has gone out
  const before = new Map(tally);
  const p0 = cpuMs(prosody);
  const g0 = gateway ? cpuMs(gateway) : 0;
  const t0 = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sends.push(send(i));
  }
  await Promise.all(sends);
  const deadline = Date.now() + 20_000;
  while (delivered() < MESSAGES && Date.now() < deadline) await sleep(20);
  await sleep(QUIET_MS);
  const d = diff(tally, before, MESSAGES);
  return {
    stanzasPerMessage: d,
    totalPerMessage: total(d),
    prosodyCpuUsPerMessage: Math.round(((cpuMs(prosody) - p0) * 1000) / MESSAGES),
    ...(gateway ? { gatewayCpuUsPerMessage: Math.round(((cpuMs(gateway) - g0) * 1000) / MESSAGES) } : {}),
    delivered: delivered(),
  };
}

async function variant(spec: string, postgres: RunningPostgres, tmp: string) {
  const [n, flag] = spec.split(':');
  const maxUnacked = Number(n);
  const noArchive = flag === 'noarchive';
  const name = `v${maxUnacked}${noArchive ? 'n' : ''}`;
  const dir = join(tmp, name);
  const password = `pw-${randomBytes(4).toString('hex')}`;
  const adminPassword = randomBytes(9).toString('base64url');
  const componentSecret = randomBytes(9).toString('hex');
  const prosody = await startProsody({
    dir: join(dir, 'prosody'),
    componentSecret,
    adminPassword,
    hibernationSeconds: 5,
    smacksMaxUnacked: maxUnacked,
    extraConfig: noArchive ? [NO_ARCHIVE_RECEIPTS] : [],
  });
  const pid = prosodyPid(prosody)!;
  await writeProsodyAccounts(
    join(prosody.dir, 'data'),
    prosody.domain,
    ['rawa', 'rawb', 'pa', 'pb', ...userNames('lr', LOGINS), ...userNames('lp', LOGINS)],
    password,
  );
  const proxy = await countingProxy(prosody.c2sPort);
  const db = `wire${name}`;
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const parley = await startParleyProcess({
    label: `wire${name}`,
    port: await freePort(),
    root: PARLEY_ROOT,
    env: {
      PARLEY_SECRET: randomBytes(18).toString('base64url'),
      DATABASE_URL: postgres.adminUrl(db),
      PARLEY_DATA_DIR: join(dir, 'parley'),
      PARLEY_INSTANCE_ID: db,
      XMPP_DOMAIN: prosody.domain,
      XMPP_SERVICE: `xmpp://127.0.0.1:${proxy.port}`,
      XMPP_COMPONENT_SERVICE: `xmpp://127.0.0.1:${prosody.componentPort}`,
      XMPP_ADMIN_JID: prosody.adminJid,
      XMPP_ADMIN_PASSWORD: adminPassword,
      XMPP_COMPONENT_SECRET: componentSecret,
    },
  });
  const streams: SseStream[] = [];
  try {
    // Raw XMPP: A → Prosody → B, the bench's raw driver (Parley's own connection settings).
    const account = (u: string) => ({
      service: `xmpp://127.0.0.1:${proxy.port}`,
      domain: prosody.domain,
      username: u,
      password,
    });
    const [ra, rb] = await Promise.all([
      connectXmpp({ ...account('rawa'), resource: 'tx' }),
      connectXmpp({ ...account('rawb'), resource: 'rx' }),
    ]);
    let rawSeen = 0;
    rb.on('stanza', (el: Element) => {
      if (el.is('message') && el.getChildText('body')?.startsWith('wire ')) rawSeen++;
    });
    const to = `rawb@${prosody.domain}/rx`;
    const raw = await measure(
      proxy.tally,
      pid,
      undefined,
      (i) => ra.send(xml('message', { type: 'chat', to, id: `m${i}` }, xml('body', {}, `wire ${i}`))),
      () => rawSeen,
    );
    // The same two clients exchanging what Parley exchanges (receipt request, marker, origin-id, and the
    // recipient's receipt back): the server's cost of the stanza pattern itself, without the gateway.
    let likeSeen = 0;
    rb.on('stanza', (el: Element) => {
      if (!el.is('message') || !el.getChildText('body')?.startsWith('like ')) return;
      likeSeen++;
      void rb.send(
        xml(
          'message',
          { to: `rawa@${prosody.domain}/tx`, id: `r${likeSeen}` },
          xml('received', { xmlns: 'urn:xmpp:receipts', id: String(el.attrs.id) }),
        ),
      );
    });
    const likeParley = await measure(
      proxy.tally,
      pid,
      undefined,
      (i) =>
        ra.send(
          xml(
            'message',
            { type: 'chat', to, id: `l${i}` },
            xml('body', {}, `like ${i}`),
            xml('request', { xmlns: 'urn:xmpp:receipts' }),
            xml('markable', { xmlns: 'urn:xmpp:chat-markers:0' }),
            xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: `l${i}` }),
          ),
        ),
      () => likeSeen,
    );
    await Promise.all([stopXmpp(ra), stopXmpp(rb)]);

    // Parley: REST send by A → stored → Prosody → B's session → stored → B's SSE stream, receipts on.
    const agent = makeAgent(8);
    const beforeLogin = new Map(proxy.tally);
    const p0 = cpuMs(pid);
    const a = await parleyLogin(parley.url, 'pa', password, agent);
    const b = await parleyLogin(parley.url, 'pb', password, agent);
    let seen = 0;
    let receipts = 0;
    streams.push(
      openSse(eventsUrl(a), (e) => {
        if (e.name === 'chatapi.receipt') receipts++;
      }),
      openSse(eventsUrl(b), (e) => {
        if (e.name === 'chatapi.chat' && (JSON.parse(e.data) as { direction?: string }).direction === 'in')
          seen++;
      }),
    );
    await Promise.all(streams.map((s) => s.opened));
    await sleep(QUIET_MS);
    const login = diff(proxy.tally, beforeLogin, 2);
    const loginCpu = Math.round(((cpuMs(pid) - p0) * 1000) / 2);
    const path = `${parley.url}/restapi/v1/chat/${a.streamId}/messages/${encodeURIComponent(`${b.jid}/${b.resource}`)}`;
    const viaParley = await measure(
      proxy.tally,
      pid,
      parley.pid,
      async (i) => {
        const r = await request(agent, 'POST', path, {
          headers: { Authorization: `Bearer ${a.token}`, 'Content-Type': 'text/plain; charset=utf-8' },
          body: `wire ${i}`,
        });
        if (r.status !== 201) throw new Error(`send → ${r.status} ${r.body.slice(0, 200)}`);
      },
      () => seen,
    );
    agent.destroy();
    const logins = await loginCost(proxy.tally, pid, parley, account, password);
    const out = {
      smacksMaxUnacked: maxUnacked,
      receiptsArchived: !noArchive,
      raw,
      rawWithReceipts: likeParley,
      parley: { ...viaParley, receiptsSeenBySender: receipts },
      parleyLogin: { stanzasPerLogin: login, totalPerLogin: total(login), prosodyCpuUsPerLogin: loginCpu },
      logins,
      ratio:
        Math.round((viaParley.prosodyCpuUsPerMessage / Math.max(1, raw.prosodyCpuUsPerMessage)) * 100) / 100,
    };
    report(out);
    return out;
  } finally {
    for (const s of streams) s.close();
    await parley.stop();
    proxy.close();
    await prosody.stop();
  }
}

/**
 * What a login costs Prosody: LOGINS plain c2s logins (SASL PLAIN, bind, XEP-0198, presence: the bench's
 * raw client), then LOGINS Parley logins (REST → the same, plus roster, carbons, archive catch-up), 8 at
 * a time. CPU over the logins and the quiet tail after them (what a login triggers trails its answer).
 */
async function loginCost(
  tally: Tally,
  prosody: number,
  parley: { url: string; pid: number },
  account: (u: string) => { service: string; domain: string; username: string; password: string },
  password: string,
) {
  const run = async (users: string[], one: (u: string) => Promise<() => Promise<void>>) => {
    await sleep(2000);
    const before = new Map(tally);
    const p0 = cpuMs(prosody);
    const g0 = cpuMs(parley.pid);
    const t0 = performance.now();
    const closers: (() => Promise<void>)[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < users.length) closers.push(await one(users[next++]!));
      }),
    );
    const wallMs = performance.now() - t0;
    await sleep(3000);
    const out = {
      logins: users.length,
      perSecond: Math.round((users.length * 1000) / wallMs),
      prosodyCpuMsPerLogin: Math.round(((cpuMs(prosody) - p0) / users.length) * 100) / 100,
      gatewayCpuMsPerLogin: Math.round(((cpuMs(parley.pid) - g0) / users.length) * 100) / 100,
      stanzasPerLogin: diff(tally, before, users.length),
    };
    await Promise.all(closers.map((c) => c()));
    return out;
  };
  const raw = await run(userNames('lr', LOGINS), async (u) => {
    const x = await connectXmpp({ ...account(u), resource: 'r' });
    return () => stopXmpp(x);
  });
  const agent = makeAgent(8);
  const viaParley = await run(userNames('lp', LOGINS), async (u) => {
    await parleyLogin(parley.url, u, password, agent);
    return async () => undefined;
  });
  agent.destroy();
  log(
    `logins: raw c2s ${raw.prosodyCpuMsPerLogin} ms Prosody each (${raw.perSecond}/s, 8 at a time); Parley ${viaParley.prosodyCpuMsPerLogin} ms Prosody + ${viaParley.gatewayCpuMsPerLogin} ms gateway each (${viaParley.perSecond}/s)`,
  );
  return { raw, parley: viaParley };
}

function report(v: {
  smacksMaxUnacked: number;
  receiptsArchived: boolean;
  raw: Window;
  rawWithReceipts: Window;
  parley: Window;
  parleyLogin: {
    stanzasPerLogin: Record<string, number>;
    totalPerLogin: number;
    prosodyCpuUsPerLogin: number;
  };
  ratio: number;
}): void {
  const lines = [
    `smacks_max_unacked_stanzas = ${v.smacksMaxUnacked}${v.receiptsArchived ? '' : ', receipts not archived'}`,
  ];
  for (const [name, w] of [
    ['raw', v.raw],
    ['raw, Parley’s stanzas and receipts', v.rawWithReceipts],
    ['parley', v.parley],
  ] as const) {
    lines.push(
      `  ${name}: ${w.totalPerMessage} elements/message, Prosody ${w.prosodyCpuUsPerMessage} µs/message` +
        (w.gatewayCpuUsPerMessage !== undefined ? `, gateway ${w.gatewayCpuUsPerMessage} µs` : '') +
        `, delivered ${w.delivered}/${MESSAGES}`,
    );
    for (const [k, n] of Object.entries(w.stanzasPerMessage))
      lines.push(`    ${n.toFixed(2).padStart(6)}  ${k}`);
  }
  lines.push(`  Parley/raw Prosody CPU: ${v.ratio}×`);
  lines.push(
    `  Parley login: ${v.parleyLogin.totalPerLogin} elements/login, Prosody ${v.parleyLogin.prosodyCpuUsPerLogin} µs/login`,
  );
  for (const [k, n] of Object.entries(v.parleyLogin.stanzasPerLogin))
    lines.push(`    ${n.toFixed(2).padStart(6)}  ${k}`);
  log(lines.join('\n'));
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'parley-wire-'));
  await chmod(tmp, 0o711);
  const postgres = await startPostgres({ dir: join(tmp, 'pg') });
  const variants = [];
  try {
    for (const v of VARIANTS) variants.push(await variant(v, postgres, tmp));
  } finally {
    await postgres.stop().catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const file = join(ROOT, 'bench/results', `${stamp}-wire-${LABEL}.json`);
  const load = (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100);
  await writeFile(
    file,
    JSON.stringify(
      {
        label: LABEL,
        parleyRoot: PARLEY_ROOT,
        date: new Date().toISOString(),
        messages: MESSAGES,
        rate: RATE,
        loadAfter: load,
        variants,
      },
      null,
      2,
    ) + '\n',
  );
  log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(String((err as Error)?.stack ?? err));
    process.exit(1);
  },
);
