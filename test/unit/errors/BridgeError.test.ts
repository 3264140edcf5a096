import assert from 'node:assert/strict';
import { BridgeError } from '../../../src/errors/BridgeError.js';

describe('BridgeError', () => {
  it('captures no stack for an answer the client is told, and keeps one for a fault', () => {
    const told = new BridgeError('XMPP_BACKLOG', 'behind');
    assert.equal(told.expose, true);
    assert.doesNotMatch(String(told.stack), /\n\s+at /, 'a refusal has no frames');
    const fault = new BridgeError('INTERNAL');
    assert.equal(fault.expose, false);
    assert.match(String(fault.stack), /\n\s+at /, 'a 500 keeps its frames');
    // The limit is put back: errors made afterwards have their stacks.
    assert.match(String(new Error('after').stack), /\n\s+at /);
  });
});
