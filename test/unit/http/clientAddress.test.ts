import assert from 'node:assert/strict';
import {
  AddressSet,
  clientAddressOf,
  isAddressOrCidr,
  parseAddressList,
} from '../../../src/http/clientAddress.js';

describe('clientAddress', () => {
  const loopback = new AddressSet(['127.0.0.0/8', '::1']);

  it('is the socket address when the peer is no trusted proxy, whatever X-Forwarded-For says', () => {
    assert.equal(clientAddressOf('203.0.113.9', '127.0.0.1', loopback), '203.0.113.9');
    assert.equal(clientAddressOf('::ffff:203.0.113.9', '10.0.0.1', loopback), '203.0.113.9');
  });

  it('is the nearest untrusted X-Forwarded-For hop from a trusted proxy', () => {
    assert.equal(clientAddressOf('127.0.0.1', undefined, loopback), '127.0.0.1');
    assert.equal(clientAddressOf('::ffff:127.0.0.1', '198.51.100.7', loopback), '198.51.100.7');
    assert.equal(clientAddressOf('127.0.0.1', '10.1.2.3, 198.51.100.7', loopback), '198.51.100.7');
    assert.equal(clientAddressOf('127.0.0.1', '198.51.100.7, 127.0.0.1', loopback), '198.51.100.7');
    assert.equal(clientAddressOf('::1', '127.0.0.1', loopback), '127.0.0.1');
    assert.equal(clientAddressOf('127.0.0.1', 'unknown, 127.0.0.1', loopback), '');
  });

  it('matches addresses and ranges, IPv4-mapped IPv6 as IPv4', () => {
    const ops = new AddressSet(['10.0.0.0/8', '2001:db8::/32', '192.0.2.1']);
    assert.ok(
      ops.has('10.9.8.7') && ops.has('::ffff:10.9.8.7') && ops.has('2001:db8::1') && ops.has('192.0.2.1'),
    );
    assert.ok(!ops.has('192.0.2.2') && !ops.has('') && !ops.has(undefined) && !ops.has('junk'));
  });

  it('parses the configured lists', () => {
    assert.deepEqual(parseAddressList(' 127.0.0.0/8, ::1 '), ['127.0.0.0/8', '::1']);
    assert.deepEqual(parseAddressList('none'), []);
    for (const ok of ['10.0.0.0/8', '::1', '[::1]', '2001:db8::/32', '192.0.2.1'])
      assert.ok(isAddressOrCidr(ok), ok);
    for (const bad of ['10.0.0.0/33', 'example.org', '10.0.0.0/8/1', '', '::/129', '10.0.0.0/x'])
      assert.ok(!isAddressOrCidr(bad), bad);
  });
});
