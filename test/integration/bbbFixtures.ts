import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { epochNow, rcpChecksum, v1Checksum } from '../../src/bbb/checksum.js';
import { pyJsonDumps } from '../../src/bbb/pyJson.js';
import { BBB_CHANNELS } from '../../src/redis/keys.js';
import { rig } from '../rig/rig.js';

/**
 * Shared by the bbb*.test.ts files: BigBlueButton simulated on the rig's Redis (BBB's own message
 * formats on BBB's channels), a real HTTP callback receiver on 127.0.0.1, and BBB-Chat clients.
 */

// BBB-Chat's default 'change_me' is below the minimum Parley accepts (BBB_SECRET_MIN).
export const SECRET = 'change_me_0123456789abcdef0123456789';

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A BBB meeting: internal id `<sha1(external)>-<createdMs>` as bbb-web makes them. */
export function newMeeting(): { externalId: string; internalId: string } {
  const externalId = `parley-test-${randomBytes(4).toString('hex')}`;
  return { externalId, internalId: `${createHash('sha1').update(externalId).digest('hex')}-${Date.now()}` };
}

// --- BBB on Redis -------------------------------------------------------------------------------------

const routed = (meetingId: string, userId: string) => ({
  msgType: 'BROADCAST_TO_MEETING',
  meetingId,
  userId,
});
const envelope = (
  name: string,
  routing: Record<string, string>,
  header: Record<string, string>,
  body: unknown,
) => ({ envelope: { name, routing, timestamp: Date.now() }, core: { header: { name, ...header }, body } });

/** The 2.7 shapes of ./bbb-samples (UserJoinedMeetingEvtMsg.json, GroupChatMessageBroadcastEvtMsg.json …). */
export const bbbEvents = {
  joined: (meetingId: string, userId: string, name: string) =>
    envelope(
      'UserJoinedMeetingEvtMsg',
      routed(meetingId, userId),
      { meetingId, userId },
      {
        intId: userId,
        extId: `ext-${userId}`,
        name,
        role: 'VIEWER',
        guest: false,
        authed: true,
        guestStatus: 'ALLOW',
        emoji: 'none',
        reactionEmoji: 'none',
        raiseHand: false,
        away: false,
        pin: false,
        presenter: false,
        locked: true,
        avatar: '',
        color: '#5e35b1',
        clientType: 'HTML5',
      },
    ),
  left: (meetingId: string, userId: string) =>
    envelope(
      'UserLeftMeetingEvtMsg',
      routed(meetingId, userId),
      { meetingId, userId },
      { intId: userId, eject: false, ejectedBy: '', reason: '', reasonCode: '' },
    ),
  chat: (
    meetingId: string,
    userId: string,
    name: string,
    message: string,
    id = `${Date.now()}-${randomBytes(4).toString('hex')}`,
  ) =>
    envelope(
      'GroupChatMessageBroadcastEvtMsg',
      routed(meetingId, userId),
      { meetingId, userId },
      {
        chatId: 'MAIN-PUBLIC-GROUP-CHAT',
        msg: {
          id,
          timestamp: Date.now(),
          correlationId: `${userId}-${Date.now()}`,
          sender: { id: userId, name, role: 'VIEWER' },
          chatEmphasizedText: false,
          message,
        },
      },
    ),
  ended: (meetingId: string) =>
    envelope('MeetingEndedEvtMsg', { sender: 'bbb-apps-akka' }, {}, { meetingId }),
  clear: (meetingId: string, userId: string) =>
    envelope(
      'ClearPublicChatHistoryPubMsg',
      { meetingId, userId },
      { meetingId, userId },
      { chatId: 'MAIN-PUBLIC-GROUP-CHAT' },
    ),
};

/** Publishes as akka-apps and the html5 client do, and records what is sent to akka-apps. */
export class FakeBbb {
  readonly toAkka: Record<string, unknown>[] = [];
  #pub!: ReturnType<typeof createClient>;
  #sub!: ReturnType<typeof createClient>;

  async start(): Promise<void> {
    this.#pub = createClient({ url: rig.redis.url });
    this.#sub = createClient({ url: rig.redis.url });
    this.#sub.on('error', () => undefined); // killPubSubConnections() drops it too; it reconnects
    await Promise.all([this.#pub.connect(), this.#sub.connect()]);
    await this.#sub.subscribe(BBB_CHANNELS.toAkkaApps, (raw) => {
      this.toAkka.push(JSON.parse(raw) as Record<string, unknown>);
    });
  }

  /** Events go on from-akka-apps; the client's ClearPublicChatHistoryPubMsg on to-akka-apps. */
  async publish(msg: { envelope: { name: string } }): Promise<void> {
    const channel =
      msg.envelope.name === 'ClearPublicChatHistoryPubMsg'
        ? BBB_CHANNELS.toAkkaApps
        : BBB_CHANNELS.fromAkkaApps;
    await this.#pub.publish(channel, JSON.stringify(msg));
  }

  nextToAkka(
    match: (m: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    return waitFor('a message to akka-apps', () => this.toAkka.find(match), timeoutMs);
  }

  /** The pub/sub connections on the server by client name, e.g. `parley-bbb-sub` → its Redis client id. */
  async pubSubClients(): Promise<Map<string, string>> {
    const list = String(await this.#pub.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']));
    return new Map([...list.matchAll(/^id=(\d+) .* name=(\S*)/gm)].map((m) => [m[2]!, m[1]!]));
  }

  /** Drops every pub/sub connection on the server (the gateway's included): a Redis hiccup. */
  async killPubSubConnections(): Promise<void> {
    await this.#pub.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
  }

  async stop(): Promise<void> {
    this.#pub?.destroy();
    this.#sub?.destroy();
  }
}

// --- the callback receiver ------------------------------------------------------------------------------

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, string>;
  answered: number;
  at: number;
}

/** A real HTTP server on 127.0.0.1 that records every callback and answers `status` (settable: 503 = down). */
export class CallbackReceiver {
  readonly received: Received[] = [];
  status = 200;
  readonly #server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      raw += d;
    });
    req.on('end', () => {
      const answered = this.status;
      let body: Record<string, string> = {};
      try {
        body = JSON.parse(raw) as Record<string, string>;
      } catch {
        /* recorded as is */
      }
      this.received.push({ path: req.url ?? '', headers: req.headers, raw, body, answered, at: Date.now() });
      res.writeHead(answered, { 'Content-Type': 'application/json' }).end('{"success": true}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Callbacks answered 2xx (i.e. delivered), in arrival order. */
  get delivered(): Received[] {
    return this.received.filter((r) => r.answered < 300);
  }

  next(match: (r: Received) => boolean, timeoutMs = 10_000): Promise<Received> {
    return waitFor('a callback', () => this.received.find(match), timeoutMs);
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

// --- BBB-Chat clients ------------------------------------------------------------------------------------

export interface BbbReply {
  status: number;
  body: { success?: boolean; message?: string; count?: number; chat_ids?: string[] };
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<BbbReply> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as BbbReply['body']) : {} };
}

/** A v1 call as the seed's README builds it (hash, then checksum appended last), at `epoch`. */
export function v1Body(
  call: string,
  params: Record<string, unknown>,
  o: { secret?: string; epoch?: number } = {},
): string {
  const checksum = v1Checksum(call, params, o.secret ?? SECRET, o.epoch ?? epochNow());
  return pyJsonDumps({ ...params, checksum });
}

export const v1Call = (
  base: string,
  call: string,
  params: Record<string, unknown>,
  o: { path?: string; secret?: string; epoch?: number } = {},
) => post(`${base}/api/${o.path ?? call}`, v1Body(call, params, o), { 'Content-Type': 'application/json' });

export const rawCall = (base: string, path: string, body: string) =>
  post(`${base}/api/${path}`, body, { 'Content-Type': 'application/json' });

export function rcpCall(
  base: string,
  endpoint: string,
  params: Record<string, string>,
  o: { secret?: string; epoch?: number } = {},
): Promise<BbbReply> {
  const checksum = rcpChecksum(endpoint, params, o.secret ?? SECRET, o.epoch ?? epochNow());
  return post(`${base}/api/${endpoint}`, JSON.stringify({ ...params, checksum }), {
    'Content-Type': 'application/json',
  });
}

// --- a gateway in a child process (for SIGKILL) ----------------------------------------------------------

export interface ChildGateway {
  url: string;
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `node --import tsx src/main.ts` with this environment; resolves once it listens. */
export async function spawnGateway(env: Record<string, string>): Promise<ChildGateway> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PARLEY_LOG_LEVEL: 'info',
      PARLEY_LOG_FORMAT: 'json',
      ...env,
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
  const url = await waitFor(
    'the child gateway to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`gateway exited early:\n${out}`);
      return /"url":"(http:\/\/[^"]+)"[^\n]*Parley listening|Parley listening[^\n]*"url":"(http:\/\/[^"]+)"/
        .exec(out)
        ?.slice(1)
        .find(Boolean);
    },
    30_000,
  );
  return {
    url,
    child,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      child.kill(signal);
      await exited;
    },
  };
}

// --- the seed's Python client ------------------------------------------------------------------------------

/**
 * The checksum code of the seed's README example, unchanged in substance: hash over the parameters before
 * `checksum` is added, then append it and POST json.dumps of the dict (requests' `data=`, so no
 * Content-Type header; urllib, where requests is missing, sends a form type). One call per run.
 */
export const PYTHON_CLIENT = `
import hashlib, json, sys, time
SHARED_SECRET, BASE, method, path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
param_dict = json.loads(sys.argv[5])

checksum = hashlib.sha512((method + json.dumps(param_dict) + SHARED_SECRET + str(int(time.time()))).encode("utf-8")).hexdigest()
param_dict["checksum"] = checksum

try:
    import requests
    r = requests.post(BASE + "/api/" + path, data=json.dumps(param_dict))
    print(json.dumps({"status": r.status_code, "body": r.json(), "client": "requests"}))
except ImportError:
    import urllib.request, urllib.error
    req = urllib.request.Request(BASE + "/api/" + path, data=json.dumps(param_dict).encode("utf-8"), method="POST")
    try:
        with urllib.request.urlopen(req) as res:
            status, body = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    print(json.dumps({"status": status, "body": json.loads(body), "client": "urllib"}))
`;

export const PYTHON = ['/usr/bin/python3', 'python3'];

export async function pythonCall(
  python: string,
  base: string,
  method: string,
  params: Record<string, unknown>,
  path = method,
): Promise<BbbReply & { client: string }> {
  const child = spawn(python, ['-c', PYTHON_CLIENT, SECRET, base, method, path, JSON.stringify(params)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`python client failed (${code}):\n${out}`);
  return JSON.parse(out) as BbbReply & { client: string };
}
