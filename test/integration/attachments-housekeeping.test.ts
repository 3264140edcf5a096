import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import sharp from 'sharp';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call } from '../helpers/http.js';
import { expectResponseMatchesSpec } from '../helpers/openapi.js';
import { registerUser, type TestUser } from '../rig/users.js';
import { runCli } from '../../src/cli/runCli.js';

type Login = { streamId: string; token: string; events: string; jid: string };
type Uploaded = { id: string; url: string; name: string; size: number; type: string; sha256: string };
type Attachment = {
  url: string;
  name: string;
  size: number | null;
  type: string;
  thumbnail?: string;
  removed?: true;
};
const run = promisify(execFile);

describe("attachments: housekeeping and the operators' view", function () {
  this.timeout(30_000);
  let gw: TestGateway;
  let filesDir: string;
  before(async () => {
    filesDir = await mkdtemp(join(tmpdir(), 'parley-files-'));
    gw = await startGateway({ PARLEY_FILES_DIR: filesDir });
  });
  after(async () => {
    await gw?.stop();
    await rm(filesDir, { recursive: true, force: true });
  });

  it('lists messages with files, and clean-up frees the disk and leaves a placeholder in history', async () => {
    const [a, b] = [await registerUser('alice'), await registerUser('bob')];
    const login = async (u: TestUser) =>
      (await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } }))
        .body;
    const la = await login(a);
    await login(b);
    const up = await uploadTo(gw, la, await samplePng(), { 'Content-Type': 'image/png' }, '?name=old.png');
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const sent = await call(`${gw.url}/restapi/v1/chat/${la.streamId}/messages/${b.username}`, {
      method: 'POST',
      auth: bearer(la.token),
      json: { body: 'an old picture', attachments: [up.body.id] },
    });
    assert.equal(sent.status, 201, sent.text);

    const listed = await call<{ messages: { owner: string; body: string; attachments: Attachment[] }[] }>(
      `${gw.url}/restapi/v1/admin/attachments?user=${a.username}`,
      { auth: gw.secret },
    );
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(
      listed.body.messages.map((m) => [m.owner, m.body, m.attachments[0]!.url]),
      [[a.username, 'an old picture', up.body.url]],
    );
    assert.equal(
      (await call(`${gw.url}/restapi/v1/admin/attachments`, { auth: bearer(la.token) })).status,
      403,
    );

    const stored = join(filesDir, up.body.sha256.slice(0, 2), up.body.sha256);
    assert.ok(existsSync(stored));
    const fresh = await call<{ removed: number }>(`${gw.url}/restapi/v1/admin/attachments/cleanup?days=7`, {
      method: 'POST',
      auth: gw.secret,
    });
    assert.equal(fresh.body.removed, 0, 'a new file is kept');

    const db = new pg.Client({ connectionString: gw.dbUrl });
    await db.connect();
    try {
      await db.query(`UPDATE attachments SET created_at = now() - interval '10 days' WHERE id = $1`, [
        up.body.id,
      ]);
    } finally {
      await db.end();
    }
    const cleaned = await call<{ removed: number; freedBytes: number; messagesUpdated: number }>(
      `${gw.url}/restapi/v1/admin/attachments/cleanup?days=7`,
      { method: 'POST', auth: gw.secret },
    );
    assert.equal(cleaned.status, 200, cleaned.text);
    assert.equal(cleaned.body.removed, 1);
    assert.ok(cleaned.body.freedBytes >= up.body.size, 'the file (and its thumbnail) are gone from disk');
    assert.ok(cleaned.body.messagesUpdated >= 1);
    assert.ok(!existsSync(stored));

    const history = await call<{
      messages: { body: string; data: { attachments: Attachment[] }; attachments?: Attachment[] }[];
    }>(`${gw.url}/restapi/v1/chat/${a.username}/messages?to=${b.username}`, { auth: bearer(la.token) });
    const placeholder = {
      url: up.body.url,
      name: 'old.png',
      size: up.body.size,
      type: 'image/png',
      removed: true,
    };
    const item = history.body.messages.find((m) => m.body === 'an old picture');
    assert.deepEqual(item?.attachments, [placeholder]);
    assert.deepEqual(item?.data.attachments, [placeholder], "the data element's copy too");
    assert.equal((await fetchFile(up.body.url, bearer(la.token))).status, 404);
  });
});

describe('attachments: compression with ffmpeg', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let work: string;
  // ffmpeg is optional in production, but scripts/ensure-system.sh installs it for the suite: no skipping.
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'parley-video-'));
    gw = await startGateway({ PARLEY_MAX_UPLOAD_BYTES: String(50 * 1024 * 1024) });
  });
  after(async () => {
    await gw?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('re-encodes a video smaller, verified, and the stored messages describe the new file', async () => {
    const avi = join(work, 'clip.avi');
    await run('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=duration=2:size=320x240:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine=duration=2',
      '-c:v',
      'mjpeg',
      '-q:v',
      '2',
      '-c:a',
      'pcm_s16le',
      avi,
    ]);
    const [a, b] = [await registerUser('alice'), await registerUser('bob')];
    const login = async (u: TestUser) =>
      (await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } }))
        .body;
    const [la, lb] = [await login(a), await login(b)];
    const bytes = await readFile(avi);
    const up = await uploadTo(gw, la, bytes, { 'Content-Type': 'video/x-msvideo' }, '?name=clip.avi');
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.match(up.body.type, /^video\//);
    await call(`${gw.url}/restapi/v1/chat/${la.streamId}/messages/${b.username}`, {
      method: 'POST',
      auth: bearer(la.token),
      json: { body: 'clip', attachments: [up.body.id] },
    });

    const r = await call<{ compressed: boolean; type: string; size: number; originalSize: number }>(
      `${gw.url}/restapi/v1/admin/attachments/${up.body.id}/compress`,
      { method: 'POST', auth: gw.secret },
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.compressed, true, r.text);
    assert.equal(r.body.type, 'video/mp4');
    assert.ok(r.body.size < bytes.length);

    const res = await fetch(up.body.url, { headers: { Authorization: bearer(lb.token) } });
    assert.equal(res.headers.get('content-type'), 'video/mp4');
    assert.equal((await res.arrayBuffer()).byteLength, r.body.size);
    const history = await call<{ messages: { body: string; attachments?: Attachment[] }[] }>(
      `${gw.url}/restapi/v1/chat/${b.username}/messages?to=${a.username}`,
      { auth: bearer(lb.token) },
    );
    const att = history.body.messages.find((m) => m.body === 'clip')?.attachments?.[0];
    assert.deepEqual([att?.type, att?.size], ['video/mp4', r.body.size]);

    const png = await uploadTo(gw, la, await samplePng(), { 'Content-Type': 'image/png' });
    const refused = await call(`${gw.url}/restapi/v1/admin/attachments/${png.body.id}/compress`, {
      method: 'POST',
      auth: gw.secret,
    });
    assert.equal(refused.status, 409);
  });
});

describe('attachments: housekeeping from the CLI (parley attachments …)', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'parley-cli-video-'));
    gw = await startGateway();
  });
  after(async () => {
    await gw?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--url', gw.url, `--secret=${gw.secret}`, ...args], {
      env: {},
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out, err };
  };

  it('compresses every video and audio file once (--all), single ones by id, and cleans up by age', async () => {
    const clip = join(work, 'clip.avi');
    await run('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=duration=1:size=160x120:rate=10',
      '-c:v',
      'mjpeg',
      '-q:v',
      '2',
      clip,
    ]);
    const u = await registerUser('cli-files');
    const l = (
      await call<Login>(`${gw.url}/restapi/v1/chat/${u.username}/login`, { json: { password: u.password } })
    ).body;
    const video = await uploadTo(gw, l, await readFile(clip), { 'Content-Type': 'video/x-msvideo' });
    const second = await uploadTo(gw, l, await readFile(clip), { 'Content-Type': 'video/x-msvideo' });
    const png = await uploadTo(gw, l, await samplePng(), { 'Content-Type': 'image/png' });
    assert.deepEqual([video.status, second.status, png.status], [201, 201, 201]);

    const listed = await call<{ attachments: { id: string }[] }>(
      `${gw.url}/restapi/v1/admin/attachments/compressible`,
      { auth: gw.secret },
    );
    expectResponseMatchesSpec(
      'GET',
      '/restapi/v1/admin/attachments/compressible',
      listed.status,
      listed.contentType,
      listed.body,
    );
    assert.deepEqual(
      listed.body.attachments.map((a) => a.id),
      [video.body.id, second.body.id],
    );

    const one = await cli(['attachments', 'compress', video.body.id]);
    assert.equal(one.code, 0, one.err.join('\n'));
    assert.match(one.out.join('\n'), new RegExp(`^${video.body.id}: \\d+ → \\d+ bytes \\(video/mp4\\)`));
    const all = await cli(['attachments', 'compress', '--all', '--json']);
    assert.equal(all.code, 0, all.err.join('\n'));
    assert.deepEqual(
      all.out.map((line) => (JSON.parse(line) as { id: string }).id),
      [second.body.id],
      'the file already compressed and the image are not tried',
    );
    const again = await cli(['attachments', 'compress', '--all']);
    assert.deepEqual([again.code, again.out], [0, []], 'each file is tried once');
    const missing = await cli(['attachments', 'compress', 'no-such-file']);
    assert.equal(missing.code, 1);
    assert.equal((await cli(['attachments', 'compress'])).code, 2);

    const kept = await cli(['attachments', 'cleanup', '--days', '30']);
    assert.equal(kept.code, 0, kept.err.join('\n'));
    assert.match(kept.out.join('\n'), /^removed 0 file\(s\)/);
    const cleaned = await cli(['attachments', 'cleanup', '--days', '0', '--json']);
    assert.equal(cleaned.code, 0, cleaned.err.join('\n'));
    assert.equal((JSON.parse(cleaned.out[0]!) as { removed: number }).removed, 3);
    assert.equal((await fetch(png.body.url, { headers: { Authorization: bearer(l.token) } })).status, 404);
  });
});

async function uploadTo(
  gw: TestGateway,
  l: Login,
  body: Buffer,
  headers: Record<string, string> = {},
  query = '',
) {
  const res = await fetch(`${gw.url}/restapi/v1/chat/${l.streamId}/files${query}`, {
    method: 'POST',
    headers: { Authorization: bearer(l.token), ...headers },
    body: new Uint8Array(body),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  expectResponseMatchesSpec('POST', '/restapi/v1/chat/{streamid}/files', res.status, type, text);
  return { status: res.status, body: (/json/.test(type) ? JSON.parse(text) : text) as Uploaded };
}

async function fetchFile(url: string, auth: string): Promise<{ status: number }> {
  const res = await fetch(url, { headers: { Authorization: auth } });
  const bytes = Buffer.from(await res.arrayBuffer());
  expectResponseMatchesSpec(
    'GET',
    '/files/{id}/{name}',
    res.status,
    res.headers.get('content-type') ?? '',
    bytes,
  );
  return { status: res.status };
}

function samplePng(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 60, b: 20 } } })
    .png()
    .toBuffer();
}
