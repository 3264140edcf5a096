import assert from 'node:assert/strict';
import { bareJid, domainOf, localOf, normalizeJid, parseJid, resourceOf } from '../../../src/xmpp/jid.js';
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
  it('accepts an XEP-0106 escaped local part (a user behind a gateway)', () => {
    assert.equal(
      parseJid('Bob\\40Host.example@sync.site.example', 'x').bare,
      'bob\\40host.example@sync.site.example',
    );
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

describe('bareJid', () => {
  it('drops the resource and folds the localpart and domainpart to lower case', () => {
    assert.equal(bareJid('Alice@Example.ORG/Phone X'), 'alice@example.org');
    assert.equal(bareJid('alice@example.org'), 'alice@example.org');
  });
  it('cuts at the first slash, so a resource may hold more slashes', () => {
    assert.equal(bareJid('Team@Conference.example.org/Bob/with/slashes'), 'team@conference.example.org');
  });
  it('reads service JIDs and drops the trailing dot of a fully qualified domain', () => {
    assert.equal(bareJid('Conference.Example.org./x'), 'conference.example.org');
    assert.equal(bareJid('example.org'), 'example.org');
  });
  it('agrees with parseJid on what the bare JID is', () => {
    for (const raw of ['Bob@Example.org/Res', 'conference.Localhost', 'A@B.org'])
      assert.equal(bareJid(raw), parseJid(raw, 'localhost').bare);
  });
});

describe('resourceOf, localOf, domainOf, normalizeJid', () => {
  it('keep the resource exactly as it came (its case and its slashes)', () => {
    assert.equal(resourceOf('team@conference.example.org/Bob/with/slashes'), 'Bob/with/slashes');
    assert.equal(resourceOf('team@conference.example.org'), undefined);
    assert.equal(normalizeJid('Bob@Example.org/Phone X'), 'bob@example.org/Phone X');
    assert.equal(normalizeJid('Bob@Example.org'), 'bob@example.org');
  });
  it('split the bare part, normalised', () => {
    assert.equal(localOf('Bob@Example.org/R'), 'bob');
    assert.equal(localOf('conference.example.org'), undefined);
    assert.equal(domainOf('Bob@Conference.Example.org/R@x'), 'conference.example.org');
    assert.equal(domainOf('conference.example.org/x'), 'conference.example.org');
  });
});
