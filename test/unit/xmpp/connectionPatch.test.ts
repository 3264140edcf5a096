import assert from 'node:assert/strict';
import { connectionPatchApplied } from '../../../src/xmpp/client/connectionPatch.js';

describe('connectionPatchApplied', () => {
  it('sees the @xmpp/connection patch that npm ci applies (postinstall: patch-package)', () => {
    assert.equal(connectionPatchApplied(), true);
  });
});
