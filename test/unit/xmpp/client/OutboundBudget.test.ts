import assert from 'node:assert/strict';
import { OutboundBudget } from '../../../../src/xmpp/client/OutboundBudget.js';

describe('OutboundBudget (backpressure bounds)', () => {
  const budget = () => new OutboundBudget({ maxPerSession: 3, maxPerInstance: 5, maxSessionBytes: 100 });

  it('lets a send through below every bound', () => {
    const b = budget();
    b.adjust(4);
    assert.doesNotThrow(() => b.check(2, 99));
  });

  it('answers 429 SEND_QUEUE_FULL with Retry-After for one session over its own bound (stanzas or bytes)', () => {
    const b = budget();
    assert.throws(() => b.check(3, 0), { code: 'SEND_QUEUE_FULL', status: 429, extra: { retryAfter: 1 } });
    assert.throws(() => b.check(0, 100), { code: 'SEND_QUEUE_FULL' });
  });

  it('answers 503 XMPP_BACKLOG with Retry-After when the instance total reaches its bound', () => {
    const b = budget();
    b.adjust(5);
    assert.throws(() => b.check(0, 0), { code: 'XMPP_BACKLOG', status: 503, extra: { retryAfter: 1 } });
    b.adjust(-1);
    assert.doesNotThrow(() => b.check(0, 0));
  });

  it('reports each refusal with its code', () => {
    const seen: string[] = [];
    const b = new OutboundBudget({ maxPerSession: 1, maxPerInstance: 1, maxSessionBytes: 100 }, (c) =>
      seen.push(c),
    );
    assert.throws(() => b.check(1, 0));
    b.adjust(1);
    assert.throws(() => b.check(0, 0));
    assert.deepEqual(seen, ['SEND_QUEUE_FULL', 'XMPP_BACKLOG']);
  });

  it('never lets the total go negative (a session reporting its last share twice)', () => {
    const b = budget();
    b.adjust(2);
    b.adjust(-3);
    assert.equal(b.total, 0);
  });
});
