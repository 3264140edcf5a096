import assert from 'node:assert/strict';
import { preferredWait } from '../../../src/workgroup/routes/askRoutes.js';

describe('preferredWait (Prefer: wait=N, RFC 7240)', () => {
  it('reads the wait, capped, and 0 without one', () => {
    assert.equal(preferredWait('wait=180', 600), 180);
    assert.equal(preferredWait('respond-async, wait=10', 600), 10);
    assert.equal(preferredWait('wait=9999', 600), 600);
    assert.equal(preferredWait('', 600), 0);
    assert.equal(preferredWait('handling=lenient', 600), 0);
  });
});
