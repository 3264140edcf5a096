import { parse, type JID } from '@xmpp/jid';
import type { Element } from '@xmpp/xml';
import compose from 'koa-compose';
import type { Entity as LibraryEntity, Middleware } from '@xmpp/middleware';

/**
 * @xmpp/middleware with the same interface (`use` for what comes in, `filter` for what goes out) and the
 * same context fields, but each context parses its `from` and `to` only when a handler reads them.
 * The library parses both addresses of every stanza, in and out, and composes its handlers anew each
 * time; none of the handlers Parley composes (IQ caller and callee, stream features, XEP-0198) reads an
 * address, so that was about 3 % of the gateway's CPU per message (bench/JOURNAL.md, "Per-request costs").
 */
type Handler = (ctx: StanzaContext, next: () => Promise<unknown>) => unknown;

interface Entity {
  jid?: { toString(): string } | null;
  options?: { domain?: string };
  on(event: 'element' | 'send', listener: (stanza: Element) => void): unknown;
  send(stanza: Element): unknown;
  emit(event: 'error', err: unknown): unknown;
}

export class StanzaContext {
  readonly name: string;
  readonly id: string;
  readonly type: string;
  element?: Element; // set by @xmpp/iq's callee
  #from: JID | null | undefined;
  #to: JID | null | undefined;

  constructor(
    readonly entity: Entity,
    readonly stanza: Element,
    /** outgoing: the peer is `to`, and a missing `from` is our own address */
    readonly outgoing: boolean,
  ) {
    const { name, attrs } = stanza;
    this.name = name;
    this.id = (attrs.id as string | undefined) || '';
    const type = attrs.type as string | undefined;
    this.type = type || (name === 'message' ? 'normal' : name === 'presence' ? 'available' : '');
  }

  get from(): JID | null {
    if (this.#from === undefined) {
      const raw = (this.stanza.attrs.from as string | undefined) || this.#own(!this.outgoing);
      this.#from = raw ? parse(raw) : null;
    }
    return this.#from;
  }
  set from(jid: JID | null) {
    this.#from = jid;
  }
  get to(): JID | null {
    if (this.#to === undefined) {
      const raw = (this.stanza.attrs.to as string | undefined) || this.#own(this.outgoing);
      this.#to = raw ? parse(raw) : null;
    }
    return this.#to;
  }
  set to(jid: JID | null) {
    this.#to = jid;
  }
  /** the peer's parts: the sender's for what comes in, the addressee's for what goes out */
  get local(): string {
    return this.#peer()?.local ?? '';
  }
  get domain(): string {
    return this.#peer()?.domain ?? '';
  }
  get resource(): string {
    return this.#peer()?.resource ?? '';
  }

  #peer(): JID | null {
    return this.outgoing ? this.to : this.from;
  }
  /** a missing address on the server's side is the service domain, on ours the entity's own address */
  #own(server: boolean): string | undefined {
    return server ? this.entity.options?.domain : this.entity.jid?.toString();
  }
}

type Run = (ctx: StanzaContext) => Promise<unknown>;
// Composed once per change, not per stanza (koa-compose copies the array it is given).
const composed = (handlers: Handler[]): Run => compose(handlers as never) as unknown as Run;

/** As the library's: a handler's reply is sent, a failure is the entity's error. */
const replyOrFail: Handler = (ctx, next) => {
  next()
    .then((reply) => reply && ctx.entity.send(reply as Element))
    .catch((err: unknown) => ctx.entity.emit('error', err));
};

/**
 * One entity's handler chains. Methods and listeners every entity shares (a listener's `this` is its
 * emitter), not closures per entity: each of 10,000 sessions has one (bench/JOURNAL.md, "Memory at
 * 10,000 sessions").
 */
class Chains {
  readonly #incoming: Handler[] = [replyOrFail];
  readonly #outgoing: Handler[] = [];
  #runIncoming = composed(this.#incoming);
  #runOutgoing = composed(this.#outgoing);

  use(fn: Handler): Handler {
    this.#incoming.push(fn);
    this.#runIncoming = composed(this.#incoming);
    return fn;
  }
  filter(fn: Handler): Handler {
    this.#outgoing.push(fn);
    this.#runOutgoing = composed(this.#outgoing);
    return fn;
  }

  static onElement(this: Entity, stanza: Element): void {
    const c = chainsOf.get(this);
    if (c) void c.#runIncoming(new StanzaContext(this, stanza, false));
  }
  static onSend(this: Entity, stanza: Element): void {
    const c = chainsOf.get(this);
    if (c) void c.#runOutgoing(new StanzaContext(this, stanza, true));
  }
}

const chainsOf = new WeakMap<object, Chains>();

export default function lazyMiddleware<E extends LibraryEntity>({ entity: e }: { entity: E }): Middleware<E> {
  const entity = e as unknown as Entity;
  const chains = new Chains();
  chainsOf.set(entity, chains);
  entity.on('element', Chains.onElement);
  entity.on('send', Chains.onSend);
  // The library's types describe its context classes; the handlers see the same fields here.
  return chains as unknown as Middleware<E>;
}
