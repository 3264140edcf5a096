import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import xml, { type Element } from '@xmpp/xml';
import { parse } from '@xmpp/jid';
import IncomingContext from '@xmpp/middleware/lib/IncomingContext.js';
import OutgoingContext from '@xmpp/middleware/lib/OutgoingContext.js';
import lazyMiddleware, { StanzaContext } from '../../../src/xmpp/lazyMiddleware.js';

class FakeEntity extends EventEmitter {
  jid = parse('ann@localhost/web');
  options = { domain: 'localhost' };
  sent: Element[] = [];
  send(el: Element) {
    this.sent.push(el);
  }
}

const STANZAS = [
  xml('message', { from: 'bob@localhost/x', to: 'ann@localhost/web', type: 'chat', id: 'm1' }),
  xml('message', { from: 'room@conf.localhost/Bob', id: 'm2' }),
  xml('presence', {}),
  xml('presence', { type: 'unavailable', to: 'localhost' }),
  xml('iq', { type: 'get', id: 'i1' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  xml('r', { xmlns: 'urn:xmpp:sm:3' }),
];
const FIELDS = ['name', 'id', 'type', 'local', 'domain', 'resource'] as const;
const jidText = (j: unknown) => (j ? String(j) : null);

describe('lazyMiddleware', () => {
  it('gives handlers the fields @xmpp/middleware gives, addresses included', () => {
    const entity = new FakeEntity();
    for (const stanza of STANZAS) {
      for (const [Library, outgoing] of [
        [IncomingContext, false],
        [OutgoingContext, true],
      ] as const) {
        const theirs = new Library(entity as never, stanza) as unknown as Record<string, unknown>;
        const ours = new StanzaContext(entity as never, stanza, outgoing) as unknown as Record<
          string,
          unknown
        >;
        const what = `${outgoing ? 'out' : 'in'} ${stanza.toString()}`;
        for (const f of FIELDS) assert.equal(ours[f], theirs[f], `${f} of ${what}`);
        assert.equal(jidText(ours.from), jidText(theirs.from), `from of ${what}`);
        assert.equal(jidText(ours.to), jidText(theirs.to), `to of ${what}`);
        assert.equal(ours.stanza, stanza);
        assert.equal(ours.entity, entity);
      }
    }
  });

  it('runs handlers added later, sends a reply and reports a failure as the entity error', async () => {
    const entity = new FakeEntity();
    const mw = lazyMiddleware({ entity: entity as never });
    const seen: string[] = [];
    const errors: unknown[] = [];
    entity.on('error', (e) => errors.push(e));
    entity.emit('element', STANZAS[0]); // no handler yet
    mw.use(async (ctx, next) => {
      seen.push(`in ${ctx.id} from ${String(ctx.from)}`);
      if (ctx.name === 'iq') return xml('iq', { type: 'result', id: ctx.id });
      if (ctx.name === 'presence') throw new Error('boom');
      return next();
    });
    mw.filter((ctx, next) => {
      seen.push(`out ${ctx.id} to ${String(ctx.to)}`);
      return next();
    });
    entity.emit('element', STANZAS[0]);
    entity.emit('element', STANZAS[4]);
    entity.emit('element', STANZAS[2]);
    entity.emit('send', xml('message', { to: 'bob@localhost', id: 'o1' }));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [
      'in m1 from bob@localhost/x',
      'in i1 from localhost',
      'in  from localhost',
      'out o1 to bob@localhost',
    ]);
    assert.equal(entity.sent.length, 1);
    assert.equal(entity.sent[0]!.attrs.id, 'i1');
    assert.equal((errors[0] as Error).message, 'boom');
  });

  it('parses an address only when it is read, and keeps one a handler sets', () => {
    const entity = new FakeEntity();
    const ctx = new StanzaContext(entity, xml('message', { from: 'not a@@jid/x' }), false);
    assert.equal(ctx.name, 'message'); // nothing parsed yet
    ctx.from = parse('carl@localhost');
    assert.equal(ctx.local, 'carl');
  });
});
