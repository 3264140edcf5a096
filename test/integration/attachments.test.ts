import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import xml from '@xmpp/xml';
import sharp from 'sharp';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { gatewayFixture } from '../helpers/fixture.js';
import { bearer, call, withToken } from '../helpers/http.js';
import { expectResponseMatchesSpec, templateFor } from '../helpers/openapi.js';
import { SseClient } from '../helpers/sse.js';
import { XmppPeer } from '../helpers/xmppPeer.js';
import { registerUser, type TestUser } from '../rig/users.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Uploaded = {
  id: string;
  url: string;
  name: string;
  size: number;
  type: string;
  sha256: string;
  thumbnail?: string;
  created: string;
};
type Attachment = { url: string; name: string; size: number | null; type: string; thumbnail?: string };
type Got = { status: number; headers: Headers; bytes: Buffer };

const UPLOAD = '/restapi/v1/chat/{streamid}/files';
const execFileAsync = promisify(execFile);

describe('attachments: upload, send, file server (real Prosody + PostgreSQL)', function () {
  this.timeout(30_000);
  const fx = gatewayFixture();
  const { streams, peers } = fx;

  const login = async (u: TestUser): Promise<Login> => {
    const r = await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    return r.body;
  };
  const open = (l: Login) => {
    const s = new SseClient(withToken(l.events, l.token));
    streams.push(s);
    return s;
  };

  it('Alice uploads a PNG and sends it to Bob: Bob gets it byte-exact, Carol gets 403, a native client gets the OOB URL', async () => {
    const [a, b, c, d] = [
      await registerUser('alice'),
      await registerUser('bob'),
      await registerUser('carol'),
      await registerUser('dave'),
    ];
    const [la, lb, lc] = [await login(a), await login(b), await login(c)];
    const dave = await XmppPeer.connect(d.username, d.password);
    peers.push(dave);
    const bobTab = open(lb);
    await bobTab.opened;

    const png = await samplePng();
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array(png)], { type: 'application/octet-stream' }),
      'cat picture.png',
    );
    const up = await upload(la, form);
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal(up.body.type, 'image/png', 'type sniffed from the content, not the declared octet-stream');
    assert.equal(up.body.size, png.length);
    assert.equal(up.body.name, 'cat picture.png');
    assert.ok(up.body.thumbnail, 'images get a thumbnail');

    const sent = await call<{ id: string }>(
      `${fx.gw.url}/restapi/v1/chat/${la.streamId}/messages/${b.username}`,
      { method: 'POST', auth: bearer(la.token), json: { body: 'look', attachments: [up.body.id] } },
    );
    assert.equal(sent.status, 201, sent.text);

    const ev = await bobTab.next((e) => e.name === 'chatapi.chat' && e.data.body === 'look');
    const [att] = ev.data.attachments as Attachment[];
    assert.deepEqual(att, {
      url: up.body.url,
      name: 'cat picture.png',
      size: png.length,
      type: 'image/png',
      thumbnail: up.body.thumbnail,
    });

    const got = await download(att!.url, bearer(lb.token));
    assert.equal(got.status, 200);
    assert.ok(got.bytes.equals(png), 'byte-exact');
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.match(got.headers.get('content-disposition') ?? '', /^inline; filename="cat picture.png"/);
    const thumb = await download(att!.thumbnail!, bearer(lb.token));
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/webp');

    assert.equal((await download(att!.url, bearer(lc.token))).status, 403, 'Carol is not a party');
    assert.equal((await download(att!.url)).status, 401, 'no credentials');

    const history = await call<{ messages: { body: string; attachments?: Attachment[] }[] }>(
      `${fx.gw.url}/restapi/v1/chat/${b.username}/messages?to=${a.username}`,
      { auth: bearer(lb.token) },
    );
    assert.deepEqual(history.body.messages.find((m) => m.body === 'look')?.attachments, [att]);

    // A native XMPP client sees an XEP-0066 URL; a message that is only a file has the URL as its body.
    const toDave = await call(`${fx.gw.url}/restapi/v1/chat/${la.streamId}/messages/${d.username}`, {
      method: 'POST',
      auth: bearer(la.token),
      json: { attachments: [up.body.id] },
    });
    assert.equal(toDave.status, 201, toDave.text);
    const stanza = await dave.next((s) => s.is('message') && !!s.getChild('x', 'jabber:x:oob'));
    assert.equal(stanza.getChild('x', 'jabber:x:oob')!.getChildText('url'), up.body.url);
    assert.equal(stanza.getChildText('body'), up.body.url);
  });

  it("a native client's OOB URL reaches Parley users as an attachment", async () => {
    const [b, d] = [await registerUser('bob'), await registerUser('dave')];
    const lb = await login(b);
    const bobTab = open(lb);
    await bobTab.opened;
    const dave = await XmppPeer.connect(d.username, d.password);
    peers.push(dave);
    const url = 'https://upload.example.org/abc/voice%20note.m4a';
    await dave.send(
      xml(
        'message',
        { to: b.jid, type: 'chat', id: 'oob-1' },
        xml('body', {}, url),
        xml('x', { xmlns: 'jabber:x:oob' }, xml('url', {}, url)),
      ),
    );
    const ev = await bobTab.next((e) => e.name === 'chatapi.chat' && e.data.body === url);
    assert.deepEqual(ev.data.attachments, [{ url, name: 'voice note.m4a', size: null, type: 'audio/mp4' }]);
  });

  it('a file posted in a room reaches its members, who may download it; others may not', async () => {
    const [a, b, c] = [await registerUser('alice'), await registerUser('bob'), await registerUser('carol')];
    const [la, lb, lc] = [await login(a), await login(b), await login(c)];
    const bobTab = open(lb);
    await bobTab.opened;
    const room = `files-${Date.now().toString(36)}`;
    const joinA = await call(`${fx.gw.url}/restapi/v1/chat/${la.streamId}/rooms/${room}?nick=Alice`, {
      method: 'PUT',
      auth: bearer(la.token),
      json: {},
    });
    assert.equal(joinA.status, 201, joinA.text);
    const joinB = await call(`${fx.gw.url}/restapi/v1/chat/${lb.streamId}/rooms/${room}?nick=Bob`, {
      method: 'PUT',
      auth: bearer(lb.token),
      json: {},
    });
    assert.ok(joinB.status === 200 || joinB.status === 201, joinB.text);

    const up = await upload(
      la,
      Buffer.from('minutes of the meeting\n'),
      { 'Content-Type': 'text/plain' },
      '?name=minutes.txt',
    );
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const posted = await call(`${fx.gw.url}/restapi/v1/chat/${la.streamId}/rooms/${room}`, {
      method: 'POST',
      auth: bearer(la.token),
      json: { attachments: [up.body.id] },
    });
    assert.ok(posted.status === 201 || posted.status === 202, posted.text);
    const ev = await bobTab.next(
      (e) => e.name === 'chatapi.muc' && e.data.type === 'groupchat' && Array.isArray(e.data.attachments),
    );
    assert.deepEqual(ev.data.attachments, [
      { url: up.body.url, name: 'minutes.txt', size: 23, type: 'text/plain' },
    ]);
    assert.equal(ev.data.body, up.body.url, 'a post that is only a file has the URL as its body');
    const got = await download(up.body.url, bearer(lb.token));
    assert.equal(got.status, 200);
    assert.equal(got.bytes.toString(), 'minutes of the meeting\n');
    assert.equal((await download(up.body.url, bearer(lc.token))).status, 403);
    // The room's stored history carries the file too, for Bob as for the room as Parley saw it.
    for (const auth of [bearer(lb.token), fx.gw.secret]) {
      const history = await call<{ messages: { body: string; attachments?: unknown[] }[] }>(
        `${fx.gw.url}/restapi/v1/chat/rooms/${room}/chathistory`,
        { auth },
      );
      assert.equal(history.status, 200, history.text);
      assert.deepEqual(
        history.body.messages.find((m) => m.body === up.body.url)?.attachments,
        ev.data.attachments,
      );
    }
  });

  it('serves ranges (206, 416) and revalidates by ETag (304)', async () => {
    const a = await registerUser('alice');
    const la = await login(a);
    const text = Buffer.from('0123456789abcdefghij'.repeat(10));
    const up = await upload(la, text, { 'Content-Type': 'text/plain' }, '?name=notes.txt');
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal(up.body.type, 'text/plain');
    const auth = bearer(la.token);

    const part = await download(up.body.url, auth, { Range: 'bytes=10-19' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-19/${text.length}`);
    assert.equal(part.bytes.toString(), 'abcdefghij');
    const tail = await download(up.body.url, auth, { Range: 'bytes=-5' });
    assert.equal(tail.bytes.toString(), 'fghij');
    const outside = await download(up.body.url, auth, { Range: `bytes=${text.length}-` });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get('content-range'), `bytes */${text.length}`);

    const full = await download(up.body.url, auth);
    const etag = full.headers.get('etag')!;
    assert.equal(etag, `"${up.body.sha256}"`);
    assert.match(
      full.headers.get('content-disposition') ?? '',
      /^attachment;/,
      'text is downloaded, never rendered',
    );
    const again = await download(up.body.url, auth, { 'If-None-Match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
  });

  it('refuses an executable renamed .png (415) and unknown file ids (400)', async () => {
    const a = await registerUser('alice');
    const la = await login(a);
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120, 0)]);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(elf)], { type: 'image/png' }), 'cute.png');
    const r = await upload(la, form);
    assert.equal(r.status, 415, JSON.stringify(r.body));
    const raw = await upload(la, elf, { 'Content-Type': 'image/png' });
    assert.equal(raw.status, 415);
    const bad = await call(`${fx.gw.url}/restapi/v1/chat/${la.streamId}/messages/someone`, {
      method: 'POST',
      auth: bearer(la.token),
      json: { body: 'x', attachments: ['AAAAAAAAAAAAAAAAAAAAAA'] },
    });
    assert.equal(bad.status, 400, bad.text);
  });

  const upload = async (
    l: Login,
    body: FormData | Buffer | ReadableStream<Uint8Array>,
    headers: Record<string, string> = {},
    query = '',
  ) => uploadTo(fx.gw, l, body, headers, query);
  const download = (url: string, auth?: string, headers: Record<string, string> = {}) =>
    fetchFile(url, auth, headers);
});

describe('attachments: upload limits and streaming', function () {
  this.timeout(60_000);
  const LIMIT = 10 * 1024 * 1024;
  let gw: TestGateway;
  let l: Login;
  before(async () => {
    gw = await startGateway({ PARLEY_MAX_UPLOAD_BYTES: String(LIMIT) });
    const u = await registerUser('big');
    const r = await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    l = r.body;
  });
  after(async () => {
    await gw?.stop();
  });

  it('streams a 10 MB upload to disk without holding it in memory', async () => {
    const gc = exposeGc();
    gc();
    const base = liveBytes();
    let peak = 0;
    // A scavenge (minor GC) every 20 ms frees the chunks already written to disk, cheaply; what a body held
    // in memory would keep alive is still counted.
    const sampler = setInterval(() => {
      gc({ type: 'minor' });
      peak = Math.max(peak, liveBytes() - base);
    }, 20);
    try {
      // The client runs in another process, so only the gateway's memory is measured here.
      const r = await uploadFromChild(
        `${gw.url}/restapi/v1/chat/${l.streamId}/files?name=big.txt`,
        l.token,
        LIMIT,
      );
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.size, LIMIT);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(
      peak < 6 * 1024 * 1024,
      `memory grew by ${(peak / 1048576).toFixed(1)} MiB while uploading 10 MiB`,
    );
  });

  it('answers the limit + 1 byte with 413, raw (streamed, no Content-Length) and multipart', async () => {
    const raw = await uploadTo(gw, l, textStream(LIMIT + 1), { 'Content-Type': 'text/plain' });
    assert.equal(raw.status, 413, JSON.stringify(raw.body));
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(LIMIT + 1).fill(0x61)], { type: 'text/plain' }), 'big.txt');
    const multi = await uploadTo(gw, l, form);
    assert.equal(multi.status, 413, JSON.stringify(multi.body));
    const declared = await uploadTo(gw, l, Buffer.alloc(LIMIT + 70 * 1024, 0x61), {
      'Content-Type': 'text/plain',
    });
    assert.equal(declared.status, 413);
  });
});

async function uploadTo(
  gw: TestGateway,
  l: Login,
  body: FormData | Buffer | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
  query = '',
) {
  const res = await fetch(`${gw.url}/restapi/v1/chat/${l.streamId}/files${query}`, {
    method: 'POST',
    headers: { Authorization: bearer(l.token), ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  expectResponseMatchesSpec('POST', UPLOAD, res.status, type, text);
  return {
    status: res.status,
    headers: res.headers,
    body: (/json/.test(type) ? JSON.parse(text) : text) as Uploaded,
  };
}

async function fetchFile(url: string, auth?: string, headers: Record<string, string> = {}): Promise<Got> {
  const res = await fetch(url, { headers: { ...(auth ? { Authorization: auth } : {}), ...headers } });
  const bytes = Buffer.from(await res.arrayBuffer());
  const template = templateFor('GET', new URL(url).pathname);
  assert.ok(template, `${new URL(url).pathname} is not in openapi.yaml`);
  expectResponseMatchesSpec('GET', template, res.status, res.headers.get('content-type') ?? '', bytes);
  return { status: res.status, headers: res.headers, bytes };
}

/** A real PNG (a 64×48 gradient) made by sharp. */
function samplePng(): Promise<Buffer> {
  const w = 64,
    h = 48;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) raw.set([i % 256, (i * 7) % 256, 128], i * 3);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

/** `n` bytes of text, produced as they are read (so the client holds no copy either). */
function textStream(n: number): ReadableStream<Uint8Array> {
  const chunk = 64 * 1024;
  let left = n;
  return new ReadableStream({
    pull(ctrl) {
      if (left <= 0) return ctrl.close();
      const size = Math.min(chunk, left);
      left -= size;
      ctrl.enqueue(new Uint8Array(size).fill(0x61));
    },
  });
}

/** Streams `n` bytes of text with node:http from a child process; answers status and JSON body. */
async function uploadFromChild(
  url: string,
  token: string,
  n: number,
): Promise<{ status: number; body: Uploaded }> {
  const script = `
    const http = require('node:http');
    const req = http.request(process.argv[1], { method: 'POST', headers: { Authorization: 'Bearer ' + process.argv[2], 'Content-Type': 'text/plain' } }, (res) => {
      let t = ''; res.on('data', (c) => { t += c; }); res.on('end', () => { process.stdout.write(JSON.stringify({ status: res.statusCode, body: JSON.parse(t) })); });
    });
    const chunk = Buffer.alloc(65536, 0x61); let left = Number(process.argv[3]);
    (function write() { while (left > 0) { const c = chunk.subarray(0, Math.min(left, chunk.length)); left -= c.length; if (!req.write(c)) return req.once('drain', write); } req.end(); })();`;
  const { stdout } = await execFileAsync(process.execPath, ['-e', script, url, token, String(n)], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as { status: number; body: Uploaded };
}

const liveBytes = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** global.gc without --expose-gc: garbage would otherwise look like buffering. */
type Gc = (opts?: { type: 'major' | 'minor' }) => void;
function exposeGc(): Gc {
  const g = (globalThis as { gc?: Gc }).gc;
  if (g) return g;
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Gc;
}
