import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { gatewayFixture } from '../helpers/fixture.js';
import { bearer, call } from '../helpers/http.js';
import { registerUser } from '../rig/users.js';

type Login = { streamId: string; token: string };
type Problem = { code: string; status: number; detail: string };

/** Uploads: a per-user quota, and images above a pixel cap refused before anything decodes them. */
describe('limits: uploads', function () {
  this.timeout(60_000);
  const fx = gatewayFixture({
    env: { PARLEY_UPLOAD_QUOTA_BYTES: '100000', PARLEY_MAX_IMAGE_PIXELS: '1000000' },
  });

  async function login(): Promise<Login> {
    const u = await registerUser('up');
    const r = await call<Login>(`${fx.gw.url}/restapi/v1/chat/${u.username}/login`, {
      json: { password: u.password },
    });
    assert.equal(r.status, 201, r.text);
    return r.body;
  }
  const upload = async (l: Login, body: Buffer, type: string) => {
    const res = await fetch(`${fx.gw.url}/restapi/v1/chat/${l.streamId}/files?name=f`, {
      method: 'POST',
      headers: { Authorization: bearer(l.token), 'Content-Type': type },
      body: new Uint8Array(body),
    });
    return { status: res.status, body: (await res.json()) as Problem & { id: string } };
  };
  const text = (bytes: number) => Buffer.from(randomBytes(bytes / 2).toString('hex'));

  it('refuses an upload past the per-user quota with 413 UPLOAD_QUOTA_EXCEEDED', async () => {
    const l = await login();
    assert.equal((await upload(l, text(60_000), 'text/plain')).status, 201);
    const over = await upload(l, text(60_000), 'text/plain');
    assert.equal(over.status, 413);
    assert.equal(over.body.code, 'UPLOAD_QUOTA_EXCEEDED');
    assert.match(over.body.detail, /100000-byte quota/);
    // Another user has their own quota; the first stays within theirs with a smaller file.
    assert.equal((await upload(await login(), text(60_000), 'text/plain')).status, 201);
    assert.equal((await upload(l, text(30_000), 'text/plain')).status, 201);
  });

  it('counts concurrent uploads together against the quota', async () => {
    const l = await login();
    const answers = await Promise.all([1, 2, 3].map(() => upload(l, text(40_000), 'text/plain')));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 201, 413], JSON.stringify(answers));
  });

  it('refuses an image above the pixel cap with 413 IMAGE_TOO_LARGE naming its size', async () => {
    const l = await login();
    // A small file that would decode to 2000×1000 pixels.
    const png = await sharp({
      create: { width: 2000, height: 1000, channels: 3, background: { r: 0, g: 0, b: 0 } },
    })
      .png()
      .toBuffer();
    const big = await upload(l, png, 'image/png');
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'IMAGE_TOO_LARGE');
    assert.match(big.body.detail, /2000×1000/);
    const small = await sharp({
      create: { width: 1000, height: 1000, channels: 3, background: { r: 0, g: 0, b: 0 } },
    })
      .png()
      .toBuffer();
    assert.equal((await upload(l, small, 'image/png')).status, 201);
  });
});
