import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, ENV_VARS, corsOrigins, loadConfig } from '../../../src/config/loadConfig.js';

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const c = loadConfig({});
    assert.equal(c.http.port, 8080);
    assert.equal(c.http.host, '127.0.0.1');
    assert.equal(c.dataDir, '.parley');
    assert.equal(c.xmpp.domain, 'localhost');
    assert.equal(c.xmpp.mucService, 'conference.localhost');
    assert.equal(c.database.url, undefined);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.http));
  });

  it('treats empty strings as unset', () => {
    assert.equal(loadConfig({ PARLEY_PORT: '', DATABASE_URL: '' }).http.port, 8080);
  });

  it('names every bad variable, one line each', () => {
    assert.throws(
      () => loadConfig({ PARLEY_PORT: 'eighty', DATABASE_URL: 'mysql://x', PARLEY_SECRET: 'short' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(e.problems.map((p) => p.split(':')[0]).sort(), [
          'DATABASE_URL',
          'PARLEY_PORT',
          'PARLEY_SECRET',
        ]);
        return true;
      },
    );
  });

  it('needs the admin password with the admin JID', () => {
    assert.throws(() => loadConfig({ XMPP_ADMIN_JID: 'admin@localhost' }), /XMPP_ADMIN_PASSWORD/);
    assert.throws(
      () => loadConfig({ XMPP_ADMIN_JID: 'not a jid', XMPP_ADMIN_PASSWORD: 'x' }),
      /XMPP_ADMIN_JID/,
    );
  });

  it('refuses a BBB_SECRET shorter than 32 characters, naming the variable and the rule', () => {
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };
    assert.throws(
      () => loadConfig({ ...redis, BBB_SECRET: 'change_me' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(e.problems, [
          'BBB_SECRET: must be at least 32 characters (e.g. openssl rand -hex 32)',
        ]);
        return true;
      },
    );
    assert.equal(loadConfig({ ...redis, BBB_SECRET: 'x'.repeat(32) }).bbb.secret, 'x'.repeat(32));
  });

  it('takes the host-site settings, refusing a short login key and a long token lifetime', () => {
    assert.throws(
      () =>
        loadConfig({
          PARLEY_HOST_LOGIN_KEY: 'short',
          PARLEY_HOST_LOGIN_MAX_SECONDS: '86400',
          PARLEY_HOST_USERS_URL: 'ftp://site',
        }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(
          e.problems.map((p) => p.split(':')[0]),
          ['PARLEY_HOST_LOGIN_KEY', 'PARLEY_HOST_LOGIN_MAX_SECONDS', 'PARLEY_HOST_USERS_URL'],
        );
        return true;
      },
    );
    const c = loadConfig({ PARLEY_HOST_LOGIN_KEY: 'k'.repeat(32), PARLEY_HOST_USERS_URL: 'https://site/u' });
    assert.deepEqual(c.hostSite, {
      loginKey: 'k'.repeat(32),
      loginMaxSeconds: 300,
      usersUrl: 'https://site/u',
      usersTtlSeconds: 600,
    });
    assert.equal(loadConfig({}).hostSite.loginKey, undefined);
  });

  it('needs PARLEY_PUBLIC_URL when listening beyond loopback or in production', () => {
    for (const env of [{ PARLEY_HOST: '0.0.0.0' }, { PARLEY_HOST: '10.1.2.3' }, { NODE_ENV: 'production' }])
      assert.throws(() => loadConfig(env), /^[\s\S]*PARLEY_PUBLIC_URL: required when/, JSON.stringify(env));
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.1.1'])
      assert.equal(loadConfig({ PARLEY_HOST: host }).http.publicUrl, undefined, host);
    const c = loadConfig({
      PARLEY_HOST: '0.0.0.0',
      NODE_ENV: 'production',
      PARLEY_PUBLIC_URL: 'https://chat.example.org',
    });
    assert.equal(c.http.publicUrl, 'https://chat.example.org');
  });

  it('validates the network settings: cluster key length, address lists', () => {
    const c = loadConfig({});
    assert.deepEqual(c.network, {
      opsAllow: ['127.0.0.0/8', '::1'],
      trustedProxies: ['127.0.0.0/8', '::1'],
      clusterKey: undefined,
    });
    assert.deepEqual(loadConfig({ PARLEY_TRUSTED_PROXIES: 'none' }).network.trustedProxies, []);
    assert.throws(() => loadConfig({ PARLEY_CLUSTER_KEY: 'too short' }), /PARLEY_CLUSTER_KEY/);
    assert.throws(() => loadConfig({ PARLEY_OPS_ALLOW: '10.0.0.0/8, intranet' }), /PARLEY_OPS_ALLOW/);
    assert.throws(() => loadConfig({ PARLEY_TRUSTED_PROXIES: '10.0.0.0/40' }), /PARLEY_TRUSTED_PROXIES/);
    assert.equal(loadConfig({ PARLEY_CLUSTER_KEY: 'k'.repeat(32) }).network.clusterKey, 'k'.repeat(32));
  });

  it('takes a login-token secret of 32+ characters, and admin Basic on by default', () => {
    const c = loadConfig({ XMPP_LOGIN_TOKEN_SECRET: 'k'.repeat(32), PARLEY_ADMIN_BASIC: 'false' });
    assert.equal(c.xmpp.loginTokenSecret, 'k'.repeat(32));
    assert.equal(c.xmpp.adminBasic, false);
    assert.equal(loadConfig({}).xmpp.loginTokenSecret, undefined);
    assert.equal(loadConfig({}).xmpp.adminBasic, true);
    assert.throws(
      () => loadConfig({ XMPP_LOGIN_TOKEN_SECRET: 'too-short' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /^XMPP_LOGIN_TOKEN_SECRET: must be at least 32 characters/.test(e.problems[0]!),
    );
  });

  it('takes an https meeting link template with a {room} placeholder, and nothing else', () => {
    const t = 'https://meet.example.org/{room}';
    assert.equal(loadConfig({ PARLEY_MEETING_URL_TEMPLATE: t }).rooms.meetingUrlTemplate, t);
    assert.equal(loadConfig({ PARLEY_MEETING_URL_TEMPLATE: '' }).rooms.meetingUrlTemplate, undefined);
    assert.throws(
      () => loadConfig({ PARLEY_MEETING_URL_TEMPLATE: 'http://meet.example.org/{room}' }),
      /MEETING/,
    );
    assert.throws(() => loadConfig({ PARLEY_MEETING_URL_TEMPLATE: 'https://meet.example.org/' }), /MEETING/);
    assert.equal(loadConfig({ PARLEY_BOOKMARKS_STORAGE: 'private' }).bookmarks.storage, 'private');
    assert.throws(() => loadConfig({ PARLEY_BOOKMARKS_STORAGE: 'disk' }), /PARLEY_BOOKMARKS_STORAGE/);
  });

  it('has every variable documented in .env.example', () => {
    const example = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    assert.deepEqual(
      ENV_VARS.filter((v) => !documented.has(v)),
      [],
    );
    assert.deepEqual(
      [...documented].filter((v) => !ENV_VARS.includes(v!)),
      [],
    );
  });
});

describe('loadConfig: site sync', () => {
  const key = 'k'.repeat(32);
  const base = { XMPP_COMPONENT_SECRET: 'c', PARLEY_PUBLIC_URL: 'https://chat.school.example' };

  it('is off by default, with the component named after the domain', () => {
    const c = loadConfig({ XMPP_DOMAIN: 'School.example' });
    assert.equal(c.sync.role, 'off');
    assert.equal(c.sync.component, 'sync.school.example');
  });

  it('reads a site and a host', () => {
    const site = loadConfig({
      ...base,
      PARLEY_SYNC_ROLE: 'site',
      PARLEY_SYNC_KEY: key,
      PARLEY_SYNC_HOST_URL: 'https://central.example/',
    });
    assert.equal(site.sync.hostUrl, 'https://central.example');
    const host = loadConfig({
      ...base,
      PARLEY_SYNC_ROLE: 'host',
      PARLEY_SYNC_KEY: key,
      PARLEY_SYNC_SITES: 'A.example, b.example',
    });
    assert.deepEqual(host.sync.sites, ['a.example', 'b.example']);
  });

  it('names what a role needs', () => {
    assert.throws(
      () => loadConfig({ PARLEY_SYNC_ROLE: 'site' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(e.problems.map((p) => p.split(':')[0]).sort(), [
          'PARLEY_PUBLIC_URL',
          'PARLEY_SYNC_HOST_URL',
          'PARLEY_SYNC_KEY',
          'XMPP_COMPONENT_SECRET',
        ]);
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ ...base, PARLEY_SYNC_ROLE: 'host', PARLEY_SYNC_KEY: key }),
      /PARLEY_SYNC_SITES: required/,
    );
    assert.throws(
      () => loadConfig({ ...base, PARLEY_SYNC_ROLE: 'host', PARLEY_SYNC_KEY: 'short' }),
      /PARLEY_SYNC_KEY/,
    );
  });
});

describe('corsOrigins (PARLEY_CORS_ORIGINS)', () => {
  it('takes none, *, or a list of origins, and refuses anything else', () => {
    assert.deepEqual(corsOrigins('none'), []);
    assert.equal(corsOrigins('*'), '*');
    assert.deepEqual(corsOrigins('https://a.example.com, http://localhost:3000'), [
      'https://a.example.com',
      'http://localhost:3000',
    ]);
    assert.equal(corsOrigins('https://a.example.com/path'), undefined);
    assert.equal(corsOrigins('ftp://a.example.com'), undefined);
    assert.equal(corsOrigins('shop.example.com'), undefined);
  });
});
