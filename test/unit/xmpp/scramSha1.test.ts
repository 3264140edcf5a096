import assert from 'node:assert/strict';
import { SaltedPasswords, ScramSha1 } from '../../../src/xmpp/client/scramSha1.js';

describe('SCRAM-SHA-1 with node:crypto', () => {
  it('answers RFC 5802 §5’s example exchange with its proof', async () => {
    const mech = new ScramSha1(new SaltedPasswords());
    const cred = { username: 'user', password: 'pencil' };
    const first = await mech.response(cred);
    assert.match(first, /^n,,n=user,r=[A-Za-z0-9+/=]+$/);
    // The RFC's exchange, with our nonce in place of its client nonce.
    const ours = first.slice(first.indexOf(',r=') + 3);
    const rfc = await rfcExchange(ours);
    await mech.challenge(rfc.serverFirst);
    assert.equal(await mech.response(cred), rfc.clientFinal);
  });

  it('refuses a server nonce that does not extend its own', async () => {
    const mech = new ScramSha1(new SaltedPasswords());
    await mech.response({ username: 'u', password: 'p' });
    await mech.challenge('r=someoneElse,s=QSXCR+Q6sek8bf92,i=4096');
    await assert.rejects(mech.response({ username: 'u', password: 'p' }), /nonce does not extend ours/);
  });

  it('escapes = and , in the user name', async () => {
    const first = await new ScramSha1(new SaltedPasswords()).response({ username: 'a=b,c', password: 'p' });
    assert.match(first, /^n,,n=a=3Db=2Cc,r=/);
  });

  it('derives a salted password once per password, salt and count, and forgets the oldest past its bound', async () => {
    const cache = new SaltedPasswords(2);
    const salt = Buffer.from('salt');
    const a = await cache.get('pw', salt, 1000);
    assert.equal(await cache.get('pw', salt, 1000), a, 'the same Buffer: derived once');
    assert.notEqual(await cache.get('pw', salt, 1001), a);
    assert.notEqual(await cache.get('other', salt, 1000), a);
    assert.equal(cache.size, 2);
    assert.notEqual(await cache.get('pw', salt, 1000), a, 'dropped, derived again');
  });
});

/**
 * RFC 5802 §5: user "user", password "pencil", salt QSXCR+Q6sek8bf92, 4096 iterations. The proof depends on
 * the client nonce, so it is computed here from the RFC's formulas, independently of the mechanism's code
 * path where it can be (and checked against the RFC's own proof for the RFC's nonce).
 */
async function rfcExchange(clientNonce: string) {
  const { createHash, createHmac, pbkdf2Sync } = await import('node:crypto');
  const serverNonce = `${clientNonce}3rfcNHYJY1ZVvWVs7j`;
  const serverFirst = `r=${serverNonce},s=QSXCR+Q6sek8bf92,i=4096`;
  const proofFor = (nonce: string, first: string) => {
    const salted = pbkdf2Sync('pencil', Buffer.from('QSXCR+Q6sek8bf92', 'base64'), 4096, 20, 'sha1');
    const clientKey = createHmac('sha1', salted).update('Client Key').digest();
    const stored = createHash('sha1').update(clientKey).digest();
    const auth = `n=user,r=${nonce},${first},c=biws,r=${nonce}3rfcNHYJY1ZVvWVs7j`;
    const sig = createHmac('sha1', stored).update(auth).digest();
    return Buffer.from(clientKey.map((b, i) => b ^ sig[i]!)).toString('base64');
  };
  // The formulas give the RFC's published proof for the RFC's client nonce.
  const rfcNonce = 'fyko+d2lbbFgONRv9qkxdawL';
  assert.equal(
    proofFor(rfcNonce, `r=${rfcNonce}3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096`),
    'v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  );
  return { serverFirst, clientFinal: `c=biws,r=${serverNonce},p=${proofFor(clientNonce, serverFirst)}` };
}
