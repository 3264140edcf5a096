import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import {
  AddressPolicy,
  CallbackUrlError,
  checkCallbackUrl,
  guardedLookup,
} from '../../../src/callbacks/ssrf.js';

const resolver =
  (table: Record<string, string[]>) =>
  (host: string, cb: (err: Error | null, a: LookupAddress[]) => void) => {
    const list = table[host];
    if (!list) cb(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), []);
    else
      cb(
        null,
        list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
  };

describe('callback SSRF guard', () => {
  const none = new AddressPolicy([]);

  it('refuses loopback, private, link-local, CGNAT, multicast and reserved addresses by default', () => {
    for (const a of [
      '127.0.0.1',
      '127.1.2.3',
      '10.0.0.1',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ]) {
      assert.ok(!none.addressAllowed(a), a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111'])
      assert.ok(none.addressAllowed(a), a);
  });

  it('allows exactly what PARLEY_CALLBACK_ALLOW_HOSTS lists: IPs, CIDRs and host names', () => {
    const p = new AddressPolicy(['127.0.0.1', '10.1.0.0/16', 'hooks.internal', '[fd00::5]']);
    assert.ok(p.addressAllowed('127.0.0.1'));
    assert.ok(!p.addressAllowed('127.0.0.2'));
    assert.ok(p.addressAllowed('10.1.200.3') && !p.addressAllowed('10.2.0.1'));
    assert.ok(p.addressAllowed('fd00::5'));
    assert.ok(p.hostAllowed('HOOKS.internal'));
  });

  it('checks URIs: scheme, literal IPs, and every address a name resolves to', async () => {
    const resolve = resolver({
      'public.example': ['93.184.216.34'],
      'sneaky.example': ['93.184.216.34', '10.0.0.7'],
      'hooks.internal': ['10.9.9.9'],
    });
    const refused = (url: string, p = none) =>
      assert.rejects(checkCallbackUrl(url, p, resolve), CallbackUrlError, url);
    await refused('http://127.0.0.1/cb');
    await refused('http://10.0.0.1/cb');
    await refused('http://[::1]:8080/cb');
    await refused('http://sneaky.example/cb');
    await refused('http://nowhere.example/cb');
    await refused('ftp://public.example/cb');
    await refused('not a url');
    assert.equal(
      (await checkCallbackUrl('https://public.example/cb', none, resolve)).hostname,
      'public.example',
    );
    await checkCallbackUrl('http://127.0.0.1:9/cb', new AddressPolicy(['127.0.0.1']), resolve);
    await checkCallbackUrl('http://hooks.internal/cb', new AddressPolicy(['hooks.internal']), resolve);
  });

  it('checks again at connection time (DNS rebinding)', async () => {
    const lookup = guardedLookup(
      none,
      resolver({ 'rebound.example': ['127.0.0.1'], 'ok.example': ['93.184.216.34'] }),
    );
    const run = (host: string, all: boolean) =>
      new Promise<unknown>((resolve, reject) =>
        lookup(host, { all }, (err, address) => (err ? reject(err) : resolve(address))),
      );
    await assert.rejects(run('rebound.example', true), CallbackUrlError);
    assert.equal(await run('ok.example', false), '93.184.216.34');
    assert.deepEqual(await run('ok.example', true), [{ address: '93.184.216.34', family: 4 }]);
  });
});
