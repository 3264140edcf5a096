import assert from 'node:assert/strict';
import { BridgeError } from '../../../src/errors/BridgeError.js';
import { SYNC_AUTH_HEADER, sha256Hex, signHeaders, verifySigned } from '../../../src/sync/signing.js';

describe('sync signing', () => {
  const key = 'k'.repeat(32);
  const call = {
    method: 'POST',
    url: '/restapi/v1/sync/peer/messages',
    site: 'school.example',
    digest: sha256Hex('{}'),
  };
  const now = 1_800_000_000_000;
  const auth = signHeaders(key, call, now)[SYNC_AUTH_HEADER]!;
  const forbidden = (e: unknown) => e instanceof BridgeError && e.code === 'FORBIDDEN';

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
