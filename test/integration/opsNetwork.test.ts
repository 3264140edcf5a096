import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { basic } from '../helpers/http.js';
import { registerUser, type TestUser } from '../rig/users.js';

/** Every spelling of a path that Parley's router (case-insensitive, trailing slash optional) or a proxy might treat alike. */
function variants(path: string): string[] {
  const [, first, ...rest] = path.split('/');
  const swapped = path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return [
    path,
    path.toUpperCase(),
    path.replace(/\b\w/g, (c) => c.toUpperCase()),
    `${path}/`,
    `${path}//`,
    `/${path}`,
    `/${first}//${rest.join('/')}`,
    path.replace(/\/([^/]+)$/, '/./$1'),
    swapped,
    `${path}?x=1`,
    `${path}/?x=1`,
  ];
}

/**
 * The admin API and /metrics are for the operations network (PARLEY_OPS_ALLOW) whatever the proxy in front
 * lets through: Parley itself refuses an admin's credentials (and a public /metrics) from anywhere else, by
 * the socket's address or — only from a trusted proxy — X-Forwarded-For. The master secret works anywhere.
 * Here the ops network is 10.0.0.0/8, so the test's loopback client is an outsider unless the (trusted,
 * loopback) "proxy" says the client is 10.1.2.3.
 */
describe('admin API and /metrics: operations network only, checked by Parley', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let admin: TestUser;
  before(async () => {
    admin = await registerUser('ops');
    gw = await startGateway({
      PARLEY_OPS_ALLOW: '10.0.0.0/8',
      PARLEY_ADMIN_JIDS: admin.jid,
      PARLEY_METRICS_PUBLIC: 'true',
    });
  });
  after(() => gw?.stop());

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}${path}`, { headers, redirect: 'manual' });
    return { status: res.status, text: await res.text() };
  };
  const asAdmin = () => ({ Authorization: basic(admin.username, admin.password) });
  const inside = { 'X-Forwarded-For': '10.1.2.3' };

  it('serves an admin and a public /metrics from the operations network', async () => {
    assert.equal((await get('/restapi/v1/admin/audit', { ...asAdmin(), ...inside })).status, 200);
    assert.equal((await get('/metrics', inside)).status, 200);
  });

  it('serves the master secret from anywhere', async () => {
    assert.equal((await get('/restapi/v1/admin/audit', { Authorization: gw.secret })).status, 200);
    assert.equal((await get('/metrics', { Authorization: gw.secret })).status, 200);
  });

  it('refuses every spelling of an admin path to an admin outside the operations network', async () => {
    for (const path of [...variants('/restapi/v1/admin/audit'), ...variants('/restapi/v1/admin/messages')]) {
      const r = await get(path, asAdmin());
      assert.ok(r.status === 403 || r.status === 404 || r.status === 400, `${path}: ${r.status} ${r.text}`);
    }
    const r = await get('/restapi/v1/ADMIN/audit/', asAdmin());
    assert.equal(r.status, 403, 'the route is found and refused, not merely missed');
  });

  it("serves the complaints list (a host site's admin view) only inside the operations network", async () => {
    // Star.Comet served its admin pages to trusted IPs only: PARLEY_OPS_ALLOW is that list (docs/host-site.md).
    const outside = await get('/restapi/v1/admin/reports?status=open', asAdmin());
    assert.equal(outside.status, 403, outside.text);
    assert.match(outside.text, /PARLEY_OPS_ALLOW/);
    const insideList = await get('/restapi/v1/admin/reports?status=open', { ...asAdmin(), ...inside });
    assert.equal(insideList.status, 200, insideList.text);
  });

  it('refuses every spelling of /metrics outside the operations network', async () => {
    for (const path of variants('/metrics')) {
      const r = await get(path);
      assert.ok(r.status === 403 || r.status === 404 || r.status === 400, `${path}: ${r.status} ${r.text}`);
    }
  });

  it('believes X-Forwarded-For only from a trusted proxy, and only its nearest untrusted hop', async () => {
    // From the trusted loopback proxy: the client is the rightmost untrusted address.
    const spoofed = { 'X-Forwarded-For': '10.1.2.3, 203.0.113.9' };
    assert.equal((await get('/restapi/v1/admin/audit', { ...asAdmin(), ...spoofed })).status, 403);
    assert.equal(
      (await get('/restapi/v1/admin/audit', { ...asAdmin(), 'X-Forwarded-For': 'junk' })).status,
      403,
    );
    const noProxy = await startGateway({
      PARLEY_OPS_ALLOW: '10.0.0.0/8',
      PARLEY_TRUSTED_PROXIES: 'none',
      PARLEY_ADMIN_JIDS: admin.jid,
      PARLEY_METRICS_PUBLIC: 'true',
    });
    try {
      const res = await fetch(`${noProxy.url}/metrics`, { headers: inside });
      assert.equal(res.status, 403, 'X-Forwarded-For from an untrusted peer was believed');
    } finally {
      await noProxy.stop();
    }
  });
});
