import assert from 'node:assert/strict';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import {
  SYNC_AUTH_HEADER,
  sha256Hex,
  signHeaders,
  siteKey,
  verifySigned,
} from '../../../src/sync/signing.js';

describe('sync signing', () => {
  const key = 'k'.repeat(32);
  const call = {
    method: 'POST',
    url: '/restapi/v1/sync/peer/messages',
    site: 'school.example',
    digest: sha256Hex('{}'),
  };
  const now = 1_800_000_000_000;
  // The site signs with its own key; the host derives it from its key and the site's domain.
  const auth = signHeaders(siteKey(key, 'school.example'), call, now)[SYNC_AUTH_HEADER]!;
  const forbidden = (e: unknown) => e instanceof BridgeError && e.code === 'FORBIDDEN';

  it('derives a site key as the documented openssl command does', () => {
    // printf '%s' "parley sync site school.example" | openssl dgst -sha256 -hmac "$(printf 'k%.0s' $(seq 32))"
    assert.equal(
      siteKey(key, 'school.example'),
      '944f479caed1609a0c4377b02d1cf51f5b5141d81b60e708f68654e2581e16e5',
    );
  });

  it('refuses a site signing with the host key or another site’s key', () => {
    const withHostKey = signHeaders(key, call, now)[SYNC_AUTH_HEADER]!;
    assert.throws(() => verifySigned(key, withHostKey, call, ['school.example'], now), forbidden);
    const other = signHeaders(siteKey(key, 'other.example'), call, now)[SYNC_AUTH_HEADER]!;
    assert.throws(() => verifySigned(key, other, call, ['school.example', 'other.example'], now), forbidden);
  });

  it('accepts its own signature within the minute, from a known site', () => {
    verifySigned(key, auth, call, ['school.example'], now + 59_000);
  });

  it('refuses another body, path, site, key, an old signature and an unknown site', () => {
    const sites = ['school.example', 'other.example'];
    assert.throws(
      () => verifySigned(key, auth, { ...call, digest: sha256Hex('{"x":1}') }, sites, now),
      forbidden,
    );
    assert.throws(
      () => verifySigned(key, auth, { ...call, url: `${call.url}?after=0` }, sites, now),
      forbidden,
    );
    assert.throws(() => verifySigned(key, auth, { ...call, site: 'other.example' }, sites, now), forbidden);
    assert.throws(() => verifySigned('x'.repeat(32), auth, call, sites, now), forbidden);
    assert.throws(() => verifySigned(key, auth, call, sites, now + 61_000), forbidden);
    assert.throws(() => verifySigned(key, auth, call, ['other.example'], now), forbidden);
  });
});
