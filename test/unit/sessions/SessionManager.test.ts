import assert from 'node:assert/strict';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { createLogger } from '../../../src/log.js';
import { SecretBox } from '../../../src/crypto/SecretBox.js';
import { SessionManager } from '../../../src/sessions/SessionManager.js';
import type { SessionManagerDeps } from '../../../src/sessions/sessionManagerTypes.js';
import type { LiveSessionRow, SessionStore, TokenOwner } from '../../../src/sessions/SessionStore.js';
import { UserSession, type UserSessionOptions } from '../../../src/xmpp/client/UserSession.js';

const log = createLogger('silent');

/** A real UserSession that never connects: start() checks the password against the fake server's. */
class FakeSession extends UserSession {
  constructor(
    opts: UserSessionOptions,
    private readonly server: FakeXmpp,
  ) {
    super(opts);
  }
  override async start(): Promise<void> {
    this.server.starts.push(this.username);
    await Promise.resolve(); // a login takes a turn of the event loop, as a real one does
    if (this.server.passwords.get(this.username) !== this.opts.password)
      throw new BridgeError('BAD_CREDENTIALS', 'the XMPP server rejected the username or password');
    this.state = 'online';
    this.emit('ready', false);
  }
  override async stop(): Promise<void> {
    this.server.stops.push(this.username);
    this.state = 'offline';
  }
}

class FakeXmpp {
  readonly passwords = new Map<string, string>();
  readonly starts: string[] = [];
  readonly stops: string[] = [];
  create = (opts: UserSessionOptions): UserSession => new FakeSession(opts, this);
}

/** SessionStore in memory: sessions by stream id, tokens by hash. */
class MemorySessionStore implements SessionStore {
  readonly sessions = new Map<
    string,
    { username: string; state: string; instanceId: string; cred?: string }
  >();
  readonly tokens = new Map<string, string>();
  live: LiveSessionRow[] = [];
  async createSession(s: {
    streamId: string;
    username: string;
    instanceId: string;
    credentialEnc?: string;
    tokenHash?: Buffer;
  }) {
    this.sessions.set(s.streamId, {
      username: s.username,
      state: 'online',
      instanceId: s.instanceId,
      cred: s.credentialEnc,
    });
    if (s.tokenHash) this.tokens.set(s.tokenHash.toString('hex'), s.streamId);
  }
  async setState(streamId: string, state: string) {
    const s = this.sessions.get(streamId);
    if (s) s.state = state;
  }
  async setCredential() {}
  async addToken(streamId: string, hash: Buffer) {
    this.tokens.set(hash.toString('hex'), streamId);
  }
  async tokenOwner(hash: Buffer): Promise<TokenOwner | undefined> {
    const streamId = this.tokens.get(hash.toString('hex'));
    const s = streamId ? this.sessions.get(streamId) : undefined;
    return s && streamId
      ? { streamId, username: s.username, ended: s.state === 'offline', issuedAt: new Date() }
      : undefined;
  }
  async endOrphans() {
    return 0;
  }
  async liveSessions() {
    const rows = this.live;
    this.live = [];
    return rows;
  }
  async adoptOrphans() {
    return [];
  }
  async getAccount() {
    return undefined;
  }
  async saveAccount() {}
}

type Published = { username: string; name: string; payload: Record<string, unknown> };

function setup(over: Partial<SessionManagerDeps> = {}) {
  const xmpp = new FakeXmpp();
  const store = new MemorySessionStore();
  const published: Published[] = [];
  const managed = new Map<string, string>(); // accounts Parley holds the password of
  const resets: string[] = [];
  const disabled = new Set<string>();
  const deps: SessionManagerDeps = {
    store,
    hub: {
      latestId: async () => '0',
      publish: async (username, name, payload) => {
        published.push({ username, name, payload: payload as Record<string, unknown> });
        return { id: String(published.length), name, payload: payload as Record<string, unknown> };
      },
    },
    accounts: {
      credentialFor: async (u) => managed.get(u) ?? 'unknown',
      usesTokens: false,
      resetPassword: async (u) => {
        resets.push(u);
        const pw = `reset-${u}`;
        managed.set(u, pw);
        xmpp.passwords.set(u, pw);
        return pw;
      },
      isManaged: async (u) => managed.has(u),
    },
    verifier: {
      verify: async (u, pw) => xmpp.passwords.get(u) === pw,
      remember: () => undefined,
      forget: () => undefined,
      throttled: (_u, check) => check(),
    },
    log,
    xmpp: { service: 'xmpp://127.0.0.1:1', domain: 'example.org', reconnectMaxSeconds: 1 },
    idleSeconds: 60,
    instanceId: 'unit',
    loginPolicy: {
      assertMayLogin: async (u) => {
        if (disabled.has(u)) throw new BridgeError('FORBIDDEN', `${u} is disabled`);
      },
    },
    createSession: xmpp.create,
    ...over,
  };
  const manager = new SessionManager(deps);
  return { manager, xmpp, store, published, managed, resets, disabled };
}

describe('SessionManager', () => {
  it('opens one session per user: a second login reuses it with a fresh token', async () => {
    const { manager, xmpp } = setup();
    xmpp.passwords.set('alice', 'pw');
    const first = await manager.login('alice', 'pw');
    const second = await manager.login('alice', 'pw');
    assert.equal(first.reused, false);
    assert.equal(second.reused, true);
    assert.equal(second.session, first.session);
    assert.notEqual(second.token, first.token);
    assert.deepEqual(xmpp.starts, ['alice']);
    assert.equal(manager.byUser('alice'), first.session);
    assert.equal(manager.get(first.session.streamId), first.session);
  });

  it('shares one pending login between concurrent callers', async () => {
    const { manager, xmpp } = setup();
    xmpp.passwords.set('bob', 'pw');
    const [a, b] = await Promise.all([manager.login('bob', 'pw'), manager.login('bob', 'pw')]);
    assert.equal(a.session, b.session);
    assert.deepEqual(xmpp.starts, ['bob']);
    assert.deepEqual([a.reused, b.reused].sort(), [false, true]);
  });

  it('refuses a wrong password, also for a user whose session is live', async () => {
    const { manager, xmpp } = setup();
    xmpp.passwords.set('carol', 'pw');
    await assert.rejects(manager.login('carol', 'nope'), { code: 'BAD_CREDENTIALS' });
    assert.equal(manager.size, 0);
    await manager.login('carol', 'pw');
    await assert.rejects(manager.login('carol', 'nope'), { code: 'BAD_CREDENTIALS' });
    assert.equal(manager.size, 1);
  });

  it('asks the login policy first: a disabled account gets FORBIDDEN and no XMPP session', async () => {
    const { manager, xmpp, disabled } = setup();
    xmpp.passwords.set('dave', 'pw');
    disabled.add('dave');
    await assert.rejects(manager.login('dave', 'pw'), { code: 'FORBIDDEN' });
    assert.deepEqual(xmpp.starts, [], 'no login was attempted, so none has to be undone');
    disabled.delete('dave');
    assert.equal((await manager.login('dave', 'pw')).reused, false);
  });

  it('resets the password of a managed account once when a master-secret login is refused', async () => {
    const { manager, xmpp, managed, resets } = setup();
    managed.set('erin', 'stale');
    xmpp.passwords.set('erin', 'changed-behind-our-back');
    const { session } = await manager.login('erin', undefined);
    assert.deepEqual(resets, ['erin']);
    assert.equal(session.isOnline, true);
  });

  it('logs off: forgets the session and its tokens, publishes offline with the reason, emits ended', async () => {
    const { manager, xmpp, published } = setup();
    xmpp.passwords.set('frank', 'pw');
    const { session, token } = await manager.login('frank', 'pw');
    assert.equal((await manager.tokenOwner(token))?.streamId, session.streamId);
    let ended = false;
    session.on('ended', () => (ended = true));
    await manager.logoff(session.streamId, 'kicked');
    assert.equal(manager.byUser('frank'), undefined);
    assert.equal(ended, true);
    assert.deepEqual(xmpp.stops, ['frank']);
    assert.deepEqual(
      published.filter((p) => p.name === 'chatapi.session').map((p) => [p.payload.type, p.payload.reason]),
      [
        ['online', undefined],
        ['offline', 'kicked'],
      ],
    );
    assert.equal((await manager.tokenOwner(token))?.ended, true, 'the token now names an ended session');
    await assert.rejects(manager.logoff(session.streamId), { code: 'STREAM_NOT_FOUND' });
  });

  it('reaps sessions idle past the limit with no open stream, and keeps the others', async () => {
    const { manager, xmpp } = setup({ idleSeconds: 10 });
    for (const u of ['idle', 'watching', 'busy']) xmpp.passwords.set(u, 'pw');
    const idle = (await manager.login('idle', 'pw')).session;
    const watching = (await manager.login('watching', 'pw')).session;
    await manager.login('busy', 'pw');
    idle.lastActivity = watching.lastActivity = Date.now() - 11_000;
    watching.openStreams = 1;
    await manager.reapIdle();
    assert.deepEqual(
      manager
        .all()
        .map((s) => s.username)
        .sort(),
      ['busy', 'watching'],
    );
  });

  it('restores live sessions at start, and ends those it may not bring back', async () => {
    const box = new SecretBox('unit-test-secret');
    const other = new SecretBox('another-secret');
    const { manager, xmpp, store, disabled } = setup({ restore: { box } });
    for (const u of ['gina', 'hank', 'ivy']) xmpp.passwords.set(u, 'pw');
    disabled.add('hank');
    const row = (username: string, cred: string): LiveSessionRow => ({
      streamId: `ps_${username.padEnd(16, 'x')}`,
      username,
      jid: `${username}@example.org`,
      credentialEnc: cred,
    });
    store.live = [row('gina', box.seal('pw')), row('hank', box.seal('pw')), row('ivy', other.seal('pw'))];
    const restoredHook: string[] = [];
    manager.onSessionRestored(async (s) => {
      restoredHook.push(s.username);
    });
    await manager.start();
    await manager.restored;
    assert.deepEqual(
      manager.all().map((s) => [s.username, s.streamId, s.isOnline]),
      [['gina', row('gina', '').streamId, true]],
    );
    assert.deepEqual(restoredHook, ['gina']);
    assert.deepEqual(xmpp.starts, ['gina'], 'the disabled and the unreadable row never connect');
    await manager.stop();
  });

  it('runs the ready hooks after login, and a failing hook does not fail the login', async () => {
    const { manager, xmpp } = setup();
    xmpp.passwords.set('jill', 'pw');
    const ran: string[] = [];
    manager.onSessionReady(() => {
      throw new Error('hook broke');
    });
    manager.onSessionReady((s, resumed) => {
      ran.push(`${s.username}:${resumed}`);
    });
    const created: string[] = [];
    manager.onSessionCreated((s) => created.push(s.username));
    await manager.login('jill', 'pw');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(created, ['jill']);
    assert.deepEqual(ran, ['jill:false']);
  });
});
