import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { basic } from '../helpers/http.js';
import { registerUser, type TestUser } from '../rig/users.js';
import { rig } from '../rig/rig.js';

const ROLE = new URL('../../ansible/roles/parley/', import.meta.url).pathname;

/** The snippet as the role renders it (Jinja2 with the role's defaults; unknown variables fail). */
function renderSnippet(vars: Record<string, unknown>): string {
  const script = `
import json, sys, yaml, jinja2
defaults = yaml.safe_load(open(sys.argv[1] + 'defaults/main.yml'))
env = jinja2.Environment(loader=jinja2.FileSystemLoader(sys.argv[1] + 'templates'), undefined=jinja2.StrictUndefined)
print(env.get_template('nginx-parley-snippet.conf.j2').render({**defaults, 'ansible_managed': 'test', **json.loads(sys.argv[2])}))
`;
  return execFileSync('python3', ['-c', script, ROLE, JSON.stringify(vars)], { encoding: 'utf8' });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * The rendered nginx snippet in front of a real Parley, both on loopback. nginx takes the client's address
 * from X-Real-IP here (realip from 127.0.0.1, in this test's own main config), so one test client can play
 * clients anywhere. nginx lets the operations paths through for loopback and 198.51.100.0/24; Parley's own
 * PARLEY_OPS_ALLOW is narrower (loopback and 198.51.100.7), so what Parley decides from nginx's
 * X-Forwarded-For shows too.
 */
describe('nginx (rendered snippet) in front of Parley: the operations paths', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let admin: TestUser;
  let nginx: ChildProcess | undefined;
  let dir: string;
  let base: string;
  before(async () => {
    admin = await registerUser('ops');
    gw = await startGateway({
      PARLEY_ADMIN_JIDS: admin.jid,
      PARLEY_METRICS_PUBLIC: 'true',
      PARLEY_OPS_ALLOW: '127.0.0.0/8,::1,198.51.100.7',
    });
    dir = await mkdtemp(join(rig.tmp, 'nginx-'));
    await writeFile(join(dir, 'parley.conf'), renderSnippet({ parley_nginx_ops_allow: ['198.51.100.0/24'] }));
    const port = await freePort();
    await writeFile(
      join(dir, 'nginx.conf'),
      `pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
daemon off;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  real_ip_header X-Real-IP;
  set_real_ip_from 127.0.0.1;
  upstream parley { server ${new URL(gw.url).host}; }
  map $http_x_request_id $parley_request_id { default $http_x_request_id; "" $request_id; }
  server { listen 127.0.0.1:${port}; include ${dir}/parley.conf; }
}
`,
    );
    nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (i > 50) throw new Error(`nginx did not start: ${await readFile(join(dir, 'error.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    nginx?.kill('SIGTERM');
    await gw?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string, from: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers: { 'X-Real-IP': from, ...headers } });
    return { status: res.status, text: await res.text() };
  };
  const asAdmin = () => ({ Authorization: basic(admin.username, admin.password) });
  const SPOOFS: Record<string, string>[] = [
    {},
    { 'X-Forwarded-For': '198.51.100.7' },
    { 'X-Forwarded-For': '127.0.0.1' },
  ];
  const spellings = [
    '/restapi/v1/admin/audit',
    '/restapi/v1/ADMIN/audit',
    '/restapi/v1/admin/audit/',
    '/Restapi/V1/Admin/Audit/',
    '/metrics',
    '/metrics/',
    '/METRICS',
    '/Metrics/',
  ];

  it('serves loopback and the operations network, with the client address passed on by nginx', async () => {
    for (const from of ['127.0.0.1', '198.51.100.7']) {
      for (const path of spellings) {
        const r = await get(path, from, asAdmin());
        assert.equal(r.status, 200, `${path} from ${from}: ${r.status} ${r.text}`);
      }
    }
  });

  it('refuses every spelling from outside (nginx), and Parley refuses what nginx lets through but it does not allow', async () => {
    for (const path of spellings) {
      const outside = await get(path, '203.0.113.9', asAdmin());
      assert.equal(outside.status, 403, `${path} from outside: ${outside.text}`);
      assert.match(outside.text, /nginx/, 'refused by nginx');
      // 198.51.100.8: allowed by nginx's list, not by Parley's; spoofing X-Forwarded-For does not help.
      for (const spoof of SPOOFS) {
        const r = await get(path, '198.51.100.8', { ...asAdmin(), ...spoof });
        assert.equal(r.status, 403, `${path} from 198.51.100.8 ${JSON.stringify(spoof)}: ${r.text}`);
        assert.match(r.text, /PARLEY_OPS_ALLOW/, 'refused by Parley');
      }
    }
  });

  it('keeps the admin API behind the same rule on the ofchat face (/rest/api)', async () => {
    for (const path of ['/rest/api/restapi/v1/admin/audit', '/rest/api/restapi/v1/ADMIN/audit/']) {
      assert.equal((await get(path, '127.0.0.1', asAdmin())).status, 200, path);
      const outside = await get(path, '203.0.113.9', asAdmin());
      assert.equal(outside.status, 403, `${path} from outside: ${outside.text}`);
      assert.match(outside.text, /nginx/, 'refused by nginx');
    }
    // Past nginx's list but not Parley's: Parley refuses (as ofchat's 400 on that face).
    const r = await get('/rest/api/restapi/v1/admin/audit', '198.51.100.8', asAdmin());
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /PARLEY_OPS_ALLOW/);
  });

  it('leaves the rest of the API and the master secret alone', async () => {
    const rooms = await get('/restapi/v1/chat/rooms', '203.0.113.9', { Authorization: gw.secret });
    assert.equal(rooms.status, 200, rooms.text);
    const metrics = await get('/metrics', '198.51.100.8', { Authorization: gw.secret });
    assert.equal(metrics.status, 200, metrics.text);
  });
});
