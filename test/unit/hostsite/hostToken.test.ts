import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { CLOCK_SKEW_SECONDS, signHostLogin, verifyHostLogin } from '../../../src/hostsite/hostToken.js';

const KEY = 'a'.repeat(32);
const NOW = 1_800_000_000;
const refused = (token: string, why: RegExp) =>
  assert.throws(
    () => verifyHostLogin(KEY, token, NOW, 300),
    (e: unknown) => e instanceof BridgeError && e.code === 'BAD_CREDENTIALS' && why.test(e.message),
  );

describe('hostToken', () => {
  it('signs <userId>.<expires> with HMAC-SHA256 in hex, as the documented snippets do', () => {
    const expected = createHmac('sha256', KEY).update('17.1800000060').digest('hex');
    assert.equal(signHostLogin(KEY, '17', NOW + 60), `17.1800000060.${expected}`);
  });

  it('reads the user id from the right (usernames may hold dots) and lowercases it', () => {
    const claim = verifyHostLogin(KEY, signHostLogin(KEY, 'Anna.K', NOW + 60), NOW, 300);
    assert.equal(claim.username, 'anna.k');
    assert.equal(claim.expires, NOW + 60);
    assert.match(claim.signature, /^[0-9a-f]{64}$/);
  });

  it('accepts an uppercase signature as the same token', () => {
    const t = signHostLogin(KEY, 'u1', NOW + 60);
    const upper = t.replace(/[0-9a-f]{64}$/, (h) => h.toUpperCase());
    assert.equal(
      verifyHostLogin(KEY, upper, NOW, 300).signature,
      verifyHostLogin(KEY, t, NOW, 300).signature,
    );
  });

  it('refuses another key, a changed user or expiry, and what is not a token', () => {
    refused(signHostLogin('b'.repeat(32), 'u1', NOW + 60), /not signed/);
    const good = signHostLogin(KEY, 'u1', NOW + 60);
    refused(good.replace(/^u1/, 'u2'), /not signed/);
    refused(good.replace('.1800000060.', '.1800000061.'), /not signed/);
    refused('u1.1800000060', /not a host login token/);
    refused('', /not a host login token/);
  });

  it('allows the clock skew either way and no more; bounds the lifetime', () => {
    assert.ok(verifyHostLogin(KEY, signHostLogin(KEY, 'u', NOW - CLOCK_SKEW_SECONDS), NOW, 300));
    refused(signHostLogin(KEY, 'u', NOW - CLOCK_SKEW_SECONDS - 1), /expired/);
    assert.ok(verifyHostLogin(KEY, signHostLogin(KEY, 'u', NOW + 300 + CLOCK_SKEW_SECONDS), NOW, 300));
    refused(signHostLogin(KEY, 'u', NOW + 300 + CLOCK_SKEW_SECONDS + 1), /too long/);
  });

  it('refuses a user id that is no username', () => {
    assert.throws(
      () => verifyHostLogin(KEY, signHostLogin(KEY, 'a b', NOW + 60), NOW, 300),
      (e: unknown) => e instanceof BridgeError && e.code === 'INVALID_USERNAME',
    );
  });
});
