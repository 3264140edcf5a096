import type { Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import type { UserSession } from './client/UserSession.js';
import { NS } from './ns.js';

/**
 * Hands the rest of a stanza's handling to the session's lane as deferred work: the lane goes on to the
 * next stanza, and drain() waits for it too. Offered only while stanzas queue behind this one.
 */
export type Defer = (rest: Promise<unknown>) => void;

/** true: the stanza was this feature's and is consumed; false/undefined: not after all, try the next tier. */
export type StanzaHandler = (
  session: UserSession,
  stanza: Element,
  defer?: Defer,
) => boolean | void | Promise<boolean | void>;

/** Deferred work one session may have outstanding before its lane waits for the oldest. */
export const MAX_DEFERRED = 200;

/** A session's stanzas in arrival order: the chain handling them, those waiting, the deferred work. */
interface Lane {
  tail: Promise<void>;
  waiting: number;
  /** made at the first deferral: only bursts defer, and an empty Set costs ~150 bytes per session */
  deferred?: Set<Promise<void>>;
}
export type StanzaKind = 'message' | 'presence' | 'iq';

/**
 * What a feature claims. Give at most one selector; none makes it the kind's catch-all.
 * - `from`: stanzas from an entity the feature talks to (a room it joined, its component);
 * - `ns`: stanzas carrying a child element of this namespace (also inside a carbon or an archive result);
 * - `type`: stanzas of this type attribute (groupchat, error).
 */
export interface StanzaRoute {
  feature: string;
  kind: StanzaKind;
  from?: (from: string, session: UserSession) => boolean;
  ns?: string;
  type?: string;
}

interface Entry extends StanzaRoute {
  tier: number;
  handle: StanzaHandler;
}

/** The order of the tiers is the rule: who the stanza is from, then what it carries, then its type. */
const tierOf = (r: StanzaRoute): number => (r.from ? 0 : r.ns ? 1 : r.type ? 2 : 3);

/**
 * Inbound stanzas of every user session, routed to the feature that claims them. Features declare
 * their claims (kind + sender, payload namespace or type); the order in which they register does
 * not matter. For one stanza the router tries, each handler at most once:
 *   1. the `from` claims that match (a room we joined owns everything it sends us),
 *   2. the `ns` claims, in the order the stanza's children appear,
 *   3. the `type` claims,
 *   4. the kind's catch-all (one per kind),
 * until a handler returns true. Observers (observe()) see every stanza of their kind and consume none.
 * One namespace or type has one owner per kind: a second claim is refused when it is made.
 */
export class StanzaRouter {
  readonly #routes: Entry[] = [];
  readonly #observers: { kind: StanzaKind; feature: string; handle: StanzaHandler }[] = [];
  readonly #lanes = new WeakMap<UserSession, Lane>();
  constructor(private readonly log: Log) {}

  /**
   * Feeds a session's stanzas through the handlers one at a time, in arrival order, so what is
   * stored (and its event ids) keeps the order the server sent it in. While more stanzas wait, a
   * handler may defer the rest of its work once what must keep that order is done (a copy queued for
   * its statement): waiting for each write in turn held one conversation to a statement per message,
   * and at the bench's knee the messages caught behind it took seconds to drain.
   */
  attach(session: UserSession): void {
    this.#lanes.set(session, { tail: Promise.resolve(), waiting: 0 });
    session.on('stanza', this.#onStanza);
  }

  /** One listener for every session (a listener's `this` is its session), not a closure per session. */
  readonly #onStanza = StanzaRouter.#stanzaListener(this);

  static #stanzaListener(router: StanzaRouter) {
    return function (this: UserSession, el: Element): void {
      const lane = router.#lanes.get(this);
      if (lane) router.#enqueue(this, lane, el);
    };
  }

  #enqueue(session: UserSession, lane: Lane, el: Element): void {
    lane.waiting++;
    lane.tail = lane.tail.then(async () => {
      lane.waiting--;
      await this.dispatch(
        session,
        el,
        lane.waiting > 0 ? (rest) => this.#defer(session, lane, rest) : undefined,
      );
      // Bounded: a session whose work runs behind waits for its oldest before taking more on.
      if (lane.deferred && lane.deferred.size >= MAX_DEFERRED) await lane.deferred.values().next().value;
    });
  }

  #defer(session: UserSession, lane: Lane, rest: Promise<unknown>): void {
    const done: Promise<void> = rest
      .then(
        () => undefined,
        (err: unknown) => this.log.warn({ err, streamId: session.streamId }, 'deferred stanza work failed'),
      )
      .finally(() => lane.deferred?.delete(done));
    (lane.deferred ??= new Set()).add(done);
  }

  /**
   * Resolves once every stanza received so far has been handled, its deferred work included (e.g. after a
   * MAM query's <fin/>).
   */
  async drain(session: UserSession): Promise<void> {
    const lane = this.#lanes.get(session);
    if (!lane) return;
    for (;;) {
      const tail = lane.tail;
      await tail;
      if (lane.deferred?.size) await Promise.all([...lane.deferred]);
      else if (tail === lane.tail) return;
    }
  }

  on(route: StanzaRoute, handle: StanzaHandler): void {
    const selectors = [route.from, route.ns, route.type].filter((s) => s !== undefined).length;
    if (selectors > 1) throw new Error(`stanza route of ${route.feature}: give one of from, ns, type`);
    const tier = tierOf(route);
    const rival = this.#routes.find(
      (r) =>
        r.kind === route.kind &&
        r.feature !== route.feature &&
        r.tier === tier &&
        tier !== 0 &&
        r.ns === route.ns &&
        r.type === route.type,
    );
    if (rival) {
      const what = route.ns ?? route.type ?? 'catch-all';
      throw new Error(`${route.kind} ${what} is claimed by ${rival.feature} and ${route.feature}`);
    }
    this.#routes.push({ ...route, tier, handle });
  }

  /** Sees every stanza of the kind before the owners do; never consumes (e.g. entity capabilities). */
  observe(kind: StanzaKind, feature: string, handle: StanzaHandler): void {
    this.#observers.push({ kind, feature, handle });
  }

  async dispatch(session: UserSession, stanza: Element, defer?: Defer): Promise<void> {
    for (const o of this.#observers)
      if (o.kind === stanza.name) await this.#run(o.feature, o.handle, session, stanza);
    const tried = new Set<StanzaHandler>();
    for (const route of this.candidates(session, stanza)) {
      if (tried.has(route.handle)) continue;
      tried.add(route.handle);
      if (await this.#run(route.feature, route.handle, session, stanza, defer)) return;
    }
  }

  /** The routes that claim this stanza, in the order they are tried (exposed for tests). */
  candidates(session: UserSession, stanza: Element): (StanzaRoute & { handle: StanzaHandler })[] {
    const mine = this.#routes.filter((r) => r.kind === stanza.name);
    const from = String(stanza.attrs.from ?? '');
    const namespaces = payloadNamespaces(stanza);
    const nsRank = (r: Entry): number => namespaces.indexOf(r.ns!);
    return [
      ...mine.filter((r) => r.tier === 0 && from && r.from!(from, session)),
      ...mine.filter((r) => r.tier === 1 && nsRank(r) >= 0).sort((a, b) => nsRank(a) - nsRank(b)),
      ...mine.filter((r) => r.tier === 2 && stanza.attrs.type === r.type),
      ...mine.filter((r) => r.tier === 3),
    ];
  }

  async #run(
    feature: string,
    handle: StanzaHandler,
    session: UserSession,
    stanza: Element,
    defer?: Defer,
  ): Promise<boolean> {
    try {
      return (await handle(session, stanza, defer)) === true;
    } catch (err) {
      this.log.warn({ err, handler: feature, streamId: session.streamId }, 'stanza handler failed');
      return false;
    }
  }
}

/**
 * The namespaces of a stanza's child elements in document order, followed by those of the message a
 * carbon (XEP-0280) or an archive result (XEP-0313) forwards: a call proposal is the calls feature's
 * whether it arrives live, as a carbon from another device of the user or from the archive.
 */
export function payloadNamespaces(stanza: Element): string[] {
  const out: string[] = [];
  const add = (el: Element): void => {
    for (const c of el.getChildElements()) {
      const ns = c.attrs.xmlns as string | undefined;
      if (ns && !out.includes(ns)) out.push(ns);
    }
  };
  add(stanza);
  const wrapper =
    stanza.getChild('received', NS.carbons) ??
    stanza.getChild('sent', NS.carbons) ??
    stanza.getChild('result', NS.mam);
  const inner = wrapper?.getChild('forwarded', NS.forward)?.getChild('message');
  if (inner) add(inner);
  return out;
}
