import assert from 'node:assert/strict';
import { escapeLocal, homeJid, proxyJid, unescapeLocal } from '../../../src/sync/addresses.js';

describe('sync addresses (XEP-0106)', () => {
  it('escapes a home JID into a component local part and back', () => {
    assert.equal(
      proxyJid('Alice@School.example', 'sync.central.example'),
      'alice\\40school.example@sync.central.example',
    );
    assert.equal(
      homeJid('alice\\40school.example@sync.central.example/res', 'sync.central.example'),
      'alice@school.example',
    );
  });

  it('round-trips every escaped character', () => {
    const raw = `a b"c&d'e/f:g<h>i@j\\k`;
    assert.equal(unescapeLocal(escapeLocal(raw)), raw);
    assert.equal(escapeLocal('x\\40y'), 'x\\5c40y', 'a literal backslash sequence stays literal');
  });

  it('names no user for another domain or a local part that is not a JID', () => {
    assert.equal(homeJid('alice\\40school.example@sync.other.example', 'sync.central.example'), undefined);
    assert.equal(homeJid('alice@sync.central.example', 'sync.central.example'), undefined);
    assert.equal(homeJid('sync.central.example', 'sync.central.example'), undefined);
  });
});
