import assert from 'node:assert/strict';
import { hashToken } from '../../../src/crypto/tokens.js';
import { SessionTokens } from '../../../src/sessions/SessionTokens.js';
import type { TokenOwner } from '../../../src/sessions/SessionStore.js';

/** Tokens by hash, as the database keeps them; counts the look-ups that reach it. */
class FakeStore {
  readonly owners = new Map<string, TokenOwner>();
  lookups = 0;
  async addToken(streamId: string, hash: Buffer) {
    this.owners.set(hash.toString('hex'), { streamId, username: 'u', ended: false, issuedAt: new Date(0) });
  }
  async tokenOwner(hash: Buffer) {
    this.lookups++;
    const owner = this.owners.get(hash.toString('hex'));
    return owner && { ...owner };
  }
}

function setup(live: string[] = []) {
  const store = new FakeStore();
  const clock = { now: 1_000_000 };
  const tokens = new SessionTokens({
    store,
    isLive: (streamId) => live.includes(streamId),
    ttlSeconds: 60,
    now: () => clock.now,
  });
  const touched: string[] = [];
  const session = (streamId: string) => ({ streamId, username: 'u', touch: () => touched.push(streamId) });
  return { store, clock, tokens, touched, session };
}

describe('SessionTokens (bearer tokens of the sessions)', () => {
  it('issues a token stored by its hash, counts as activity, and answers it from memory', async () => {
    const { store, tokens, touched, session } = setup();
    const token = await tokens.issue(session('ps_a'));
    assert.ok(store.owners.has(hashToken(token).toString('hex')));
    assert.deepEqual(touched, ['ps_a']);
    assert.equal((await tokens.owner(token))?.streamId, 'ps_a');
    assert.equal(store.lookups, 0);
    assert.equal(await tokens.owner('not-a-token'), undefined);
  });

  it('refuses a token once its lifetime is over, from memory and from the store alike', async () => {
    const { store, clock, tokens, session } = setup();
    const token = await tokens.issue(session('ps_a'));
    clock.now += 59_999;
    assert.ok(await tokens.owner(token));
    clock.now += 1;
    assert.equal(await tokens.owner(token), undefined);
    const stored = hashToken('from-another-instance').toString('hex');
    store.owners.set(stored, {
      streamId: 'ps_b',
      username: 'u',
      ended: false,
      issuedAt: new Date(clock.now - 60_000),
    });
    assert.equal(await tokens.owner('from-another-instance'), undefined);
  });

  it("keeps in memory only the stored tokens of streams live here, and forgets a stream's at its end", async () => {
    const { store, clock, tokens } = setup(['ps_live']);
    const put = (token: string, streamId: string) =>
      store.owners.set(hashToken(token).toString('hex'), {
        streamId,
        username: 'u',
        ended: false,
        issuedAt: new Date(clock.now),
      });
    put('t-live', 'ps_live');
    put('t-elsewhere', 'ps_elsewhere');
    for (let i = 0; i < 2; i++) {
      await tokens.owner('t-live');
      await tokens.owner('t-elsewhere');
    }
    assert.equal(store.lookups, 3, 'the live stream was looked up once, the other every time');
    store.owners.get(hashToken('t-live').toString('hex'))!.ended = true;
    tokens.forgetStream('ps_live');
    assert.equal((await tokens.owner('t-live'))?.ended, true);
  });
});
