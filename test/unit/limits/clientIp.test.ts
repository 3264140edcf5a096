import assert from 'node:assert/strict';
import { resolveClientIp, trustedProxies } from '../../../src/limits/clientIp.js';

describe('resolveClientIp', () => {
  const list = trustedProxies(['127.0.0.1', '::1', '10.0.0.0/8']);

  it('keys on the TCP peer when it is not a trusted proxy, whatever X-Forwarded-For says', () => {
    assert.equal(resolveClientIp('203.0.113.5', '1.2.3.4', list), '203.0.113.5');
    assert.equal(resolveClientIp('::ffff:203.0.113.5', undefined, list), '203.0.113.5');
  });

  it('takes the rightmost address that is not a trusted proxy from a trusted peer', () => {
    assert.equal(resolveClientIp('127.0.0.1', '1.2.3.4, 198.51.100.9', list), '198.51.100.9');
    assert.equal(resolveClientIp('::ffff:127.0.0.1', '198.51.100.9, 10.1.2.3', list), '198.51.100.9');
    assert.equal(resolveClientIp('127.0.0.1', undefined, list), '127.0.0.1');
  });

  it('stops at garbage in the header', () => {
    assert.equal(resolveClientIp('127.0.0.1', '198.51.100.9, not-an-ip', list), '127.0.0.1');
  });

  it('refuses a list entry that is not an address', () => {
    assert.throws(() => trustedProxies(['example.org']), /PARLEY_TRUSTED_PROXIES/);
  });
});
