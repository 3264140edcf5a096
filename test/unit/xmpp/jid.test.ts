import assert from 'node:assert/strict';
import { parseJid } from '../../../src/xmpp/jid.js';
import { BridgeError } from '../../../src/errors/BridgeError.js';

describe('parseJid', () => {
  it('expands a bare username to our domain and folds case', () => {
    assert.deepEqual(parseJid('Bob', 'example.org'), {
      local: 'bob',
      domain: 'example.org',
      resource: undefined,
      bare: 'bob@example.org',
      full: 'bob@example.org',
    });
  });
  it('keeps the resource case and reads full JIDs', () => {
    const j = parseJid('Alice@Example.org/Phone X', 'localhost');
    assert.equal(j.full, 'alice@example.org/Phone X');
    assert.equal(j.bare, 'alice@example.org');
  });
  it('accepts a domain-only JID (a service)', () => {
    assert.equal(parseJid('conference.localhost', 'localhost').bare, 'conference.localhost');
  });
  for (const bad of ['', 'a b@x.org', 'a@', '@x.org', 'a@x.org/', 'a"b@x.org', 'x@bad_domain!']) {
    it(`rejects ${JSON.stringify(bad)} with INVALID_JID`, () => {
      assert.throws(
        () => parseJid(bad, 'localhost'),
        (e: unknown) => e instanceof BridgeError && e.code === 'INVALID_JID',
      );
    });
  }
});
