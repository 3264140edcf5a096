import xml, { type Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import type { SessionState, UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import {
  callCapabilities,
  capsVer,
  parleyDiscoInfo,
  readCaps,
  readDiscoInfo,
  type CallCapabilities,
  type CapsRef,
} from './capabilities.js';
import { bareJid, domainOf } from '../xmpp/jid.js';

export interface ResourceCapabilities extends CallCapabilities {
  jid: string;
}
export interface ContactCapabilities {
  jid: string;
  calls: boolean;
  resources: ResourceCapabilities[];
}

const discoInfo = (ctx: { element: Element }): Element =>
  parleyDiscoInfo(ctx.element.attrs.node as string | undefined);

/** Verified caps hashes are the same for every user: cap the shared cache, oldest out first. */
const MAX_VERIFIED = 2000;
const DISCO_TIMEOUT_MS = 5000;

/**
 * Which of a contact's online clients can take a call. Watches presence (never consuming it: the
 * contacts feature reports it) for XEP-0115 caps, and asks each resource's disco#info when needed:
 * by caps hash (verified, then shared by all users), or directly when a client sends no caps (Parley
 * sessions, simple bots). Also answers disco#info for the user's own Parley session.
 */
export class CapabilityService {
  /** per stream id: online resources → their caps (null: none advertised) and when that was seen */
  readonly #online = new Map<string, Map<string, { caps: CapsRef | null; at: number }>>();
  /** per stream id: answers that could not be verified, trusted for that resource only */
  readonly #direct = new Map<string, Map<string, { caps: CapsRef | null; features: string[] }>>();
  readonly #verified = new Map<string, string[]>();

  /** when each session last lost its XMPP session (kept, as the session is, until it ends) */
  readonly #droppedAt = new WeakMap<UserSession, number>();
  // The same listeners for every session (a listener's `this` is its session), not closures per session:
  // 10,000 sessions is the goal (bench/JOURNAL.md, "Memory at 10,000 sessions").
  readonly #on = CapabilityService.#sessionListeners(this);

  constructor(private readonly deps: { log: Log; mucService: string }) {}

  static #sessionListeners(caps: CapabilityService) {
    return {
      state(this: UserSession, next: SessionState): void {
        if (next === 'reconnecting') caps.#droppedAt.set(this, Date.now());
      },
      ready(this: UserSession, resumed: boolean): void {
        const droppedAt = caps.#droppedAt.get(this);
        const online = caps.#online.get(this.streamId);
        if (resumed || droppedAt === undefined || !online) return;
        for (const [jid, r] of online) if (r.at <= droppedAt) online.delete(jid);
        caps.#direct.delete(this.streamId);
      },
      ended(this: UserSession): void {
        caps.#online.delete(this.streamId);
        caps.#direct.delete(this.streamId);
      },
    };
  }

  /**
   * Per session: answer disco#info (the iqCallee otherwise replies service-unavailable) and keep the
   * presence picture honest: after a reconnect that could not resume, presence from before the drop is
   * stale (fresh presence answers the new initial presence).
   */
  attach(session: UserSession): void {
    session.client.iqCallee.get(NS.discoInfo, 'query', discoInfo);
    session.on('state', this.#on.state);
    session.on('ready', this.#on.ready);
    session.on('ended', this.#on.ended);
  }

  /** Presence observer: remembers caps of available resources; always lets the stanza through. */
  onPresence(session: UserSession, el: Element): false {
    const from = el.attrs.from as string | undefined;
    if (
      !from ||
      !from.includes('/') ||
      el.getChild('x', NS.mucUser) ||
      domainOf(from) === this.deps.mucService
    )
      return false;
    const type = el.attrs.type as string | undefined;
    let online = this.#online.get(session.streamId);
    if (type === 'unavailable' || type === 'error') {
      online?.delete(from);
      this.#direct.get(session.streamId)?.delete(from);
    } else if (type === undefined) {
      if (!online) this.#online.set(session.streamId, (online = new Map()));
      online.set(from, { caps: readCaps(el) ?? null, at: Date.now() });
    }
    return false;
  }

  async of(session: UserSession, bare: string): Promise<ContactCapabilities> {
    const online = [...(this.#online.get(session.streamId)?.entries() ?? [])].filter(
      ([jid]) => bareJid(jid) === bare,
    );
    const resources = await Promise.all(
      online.map(async ([jid, r]) => ({
        jid,
        ...callCapabilities(await this.#features(session, jid, r.caps)),
      })),
    );
    resources.sort((a, b) => a.jid.localeCompare(b.jid));
    return { jid: bare, calls: resources.some((r) => r.calls), resources };
  }

  async #features(session: UserSession, jid: string, caps: CapsRef | null): Promise<string[]> {
    const key = caps && `${caps.hash} ${caps.ver}`;
    const known = key ? this.#verified.get(key) : undefined;
    if (known) return known;
    let direct = this.#direct.get(session.streamId);
    const cached = direct?.get(jid);
    if (cached && cached.caps?.ver === caps?.ver) return cached.features;
    const node = caps ? `${caps.node}#${caps.ver}` : undefined;
    let result: Element;
    try {
      result = await session.iq(
        xml('iq', { type: 'get', to: jid }, xml('query', { xmlns: NS.discoInfo, node })),
        DISCO_TIMEOUT_MS,
        'disco#info',
      );
    } catch (err) {
      // Not cached: a client that did not answer now may later.
      this.deps.log.debug({ err, jid }, 'disco#info of a contact failed');
      return [];
    }
    const info = readDiscoInfo(result.getChild('query', NS.discoInfo));
    if (caps && key && capsVer(info, caps.hash) === caps.ver) {
      this.#remember(key, info.features);
    } else {
      if (!direct) this.#direct.set(session.streamId, (direct = new Map()));
      direct.set(jid, { caps, features: info.features });
    }
    return info.features;
  }

  #remember(key: string, features: string[]): void {
    this.#verified.set(key, features);
    if (this.#verified.size > MAX_VERIFIED) this.#verified.delete(this.#verified.keys().next().value!);
  }
}
