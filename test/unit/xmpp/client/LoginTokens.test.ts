import assert from 'node:assert/strict';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { LoginTokens, isToken } from '../../../../src/xmpp/client/LoginTokens.js';

describe('LoginTokens', () => {
  const secret = 's'.repeat(40);
  const key = new TextEncoder().encode(secret);

  it("signs an HS256 JWT with the jid, a 60 s expiry and a fresh id: what mod_auth_parley and ejabberd's jwt check", async () => {
    const tokens = new LoginTokens(secret);
    const now = Date.UTC(2026, 0, 1);
    const a = await tokens.mint('alice@example.org', now);
    const b = await tokens.mint('alice@example.org', now);
    assert.deepEqual(decodeProtectedHeader(a), { alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(a, key, { currentDate: new Date(now) });
    assert.equal(payload.jid, 'alice@example.org');
    assert.equal(payload.exp, now / 1000 + 60);
    assert.match(String(payload.jti), /^[\w-]{16}$/);
    const second = await jwtVerify(b, key, { currentDate: new Date(now) });
    assert.notEqual(second.payload.jti, payload.jti, 'a token opens one session: each has its own id');
  });

  it('gives a session a credential that mints a new token for every connection attempt', async () => {
    const credential = new LoginTokens(secret).credentialFor('bob@example.org');
    assert.ok(isToken(credential));
    assert.ok(!isToken('a password'));
    assert.notEqual(await credential.token(), await credential.token());
  });

  it('a token signed with another secret does not verify', async () => {
    const token = await new LoginTokens('t'.repeat(40)).mint('alice@example.org');
    await assert.rejects(jwtVerify(token, key));
  });
});
