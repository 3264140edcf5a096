import xml, { type Element } from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { publishPersistent } from '../xmpp/pep.js';
import { fromPepItem, fromStorage, toPepItem, withConference, type Bookmark } from './formats.js';

export type BookmarkStorage = 'auto' | 'pep' | 'private';
type Chosen = Exclude<BookmarkStorage, 'auto'>;

const TIMEOUT_MS = 10_000;

/**
 * A user's room bookmarks, kept on the XMPP server so the user's native clients share them: XEP-0402 PEP
 * bookmarks where the server syncs them with XEP-0048 (`urn:xmpp:bookmarks:1#compat`: Prosody's
 * mod_bookmarks), else XEP-0048 in private XML storage (ejabberd 23.01, which copies that into PEP itself).
 * Changes made through Parley reach every event stream of the user as a durable `chatapi.bookmarks`
 * event. Changes by the user's native clients show in the next read: PEP notifications reach only
 * resources that advertise `+notify` in entity caps, which Parley's sessions do not send (a caps
 * exchange per login would cost every session stanzas for this one feature).
 */
export class BookmarkService {
  /** the storage chosen per session (asked once per session) */
  readonly #chosen = new WeakMap<UserSession, Promise<Chosen>>();
  /** legacy storage is one document: read-modify-write runs one at a time per session */
  readonly #lanes = new WeakMap<UserSession, Promise<unknown>>();

  constructor(private readonly deps: { hub: EventHub; storage: BookmarkStorage }) {}

  storageOf(session: UserSession): Promise<Chosen> {
    if (this.deps.storage !== 'auto') return Promise.resolve(this.deps.storage);
    let chosen = this.#chosen.get(session);
    if (!chosen) {
      chosen = this.#discover(session);
      chosen.catch(() => this.#chosen.delete(session));
      this.#chosen.set(session, chosen);
    }
    return chosen;
  }

  async list(session: UserSession): Promise<Bookmark[]> {
    const list =
      (await this.storageOf(session)) === 'pep'
        ? await this.#pepItems(session)
        : fromStorage(await this.#storage(session));
    return list.sort((a, b) => a.jid.localeCompare(b.jid));
  }

  async get(session: UserSession, jid: string): Promise<Bookmark> {
    const found = (await this.list(session)).find((b) => b.jid === jid);
    if (!found) throw new BridgeError('NOT_FOUND', `no bookmark for ${jid}`);
    return found;
  }

  /** Adds or replaces the bookmark of `b.jid`; resolves whether it was new. */
  async set(session: UserSession, b: Bookmark): Promise<boolean> {
    let created: boolean;
    if ((await this.storageOf(session)) === 'pep') {
      created = !(await this.#pepItems(session)).some((x) => x.jid === b.jid);
      // XEP-0402 §3: whitelist (the owner only), every item kept, nothing pushed to new subscribers.
      await publishPersistent(session, NS.bookmarks, toPepItem(b), 'whitelist', {
        extra: { 'pubsub#send_last_published_item': 'never' },
        timeoutMs: TIMEOUT_MS,
        what: 'bookmark publish',
      });
    } else {
      created = await this.#legacy(session, (storage) => {
        const had = fromStorage(storage).some((x) => x.jid === b.jid);
        return { next: withConference(storage, b.jid, b), result: !had };
      });
    }
    await this.#publish(session, { type: 'set', bookmark: b });
    return created;
  }

  /** 404 when there is no bookmark for the room. */
  async remove(session: UserSession, jid: string): Promise<void> {
    if ((await this.storageOf(session)) === 'pep') {
      if (!(await this.#pepItems(session)).some((x) => x.jid === jid))
        throw new BridgeError('NOT_FOUND', `no bookmark for ${jid}`);
      const retract = xml('retract', { node: NS.bookmarks, notify: 'true' }, xml('item', { id: jid }));
      await session.iq(
        xml('iq', { type: 'set' }, xml('pubsub', { xmlns: NS.pubsub }, retract)),
        TIMEOUT_MS,
        'bookmark retract',
      );
    } else {
      await this.#legacy(session, (storage) => {
        if (!fromStorage(storage).some((x) => x.jid === jid))
          throw new BridgeError('NOT_FOUND', `no bookmark for ${jid}`);
        return { next: withConference(storage, jid, undefined), result: undefined };
      });
    }
    await this.#publish(session, { type: 'removed', jid });
  }

  async #publish(
    session: UserSession,
    e: { type: 'set'; bookmark: Bookmark } | { type: 'removed'; jid: string },
  ): Promise<void> {
    const payload =
      e.type === 'set'
        ? { type: 'set', jid: e.bookmark.jid, bookmark: e.bookmark }
        : { type: 'removed', jid: e.jid };
    await this.deps.hub.publish(session.username, EVENT_NAMES.bookmarks, payload, { durable: true });
  }

  async #discover(session: UserSession): Promise<Chosen> {
    const info = await session.iq(
      xml('iq', { type: 'get', to: session.bareJid }, xml('query', { xmlns: NS.discoInfo })),
      TIMEOUT_MS,
      'account disco#info',
    );
    const features = new Set(
      (info.getChild('query', NS.discoInfo)?.getChildren('feature') ?? []).map((f) => String(f.attrs.var)),
    );
    // XEP-0402 §3.3: PEP bookmarks where the server keeps them in step with XEP-0048 (#compat). A server with
    // persistent PEP items but no such sync (ejabberd 23.01: its mod_private copies private storage into the
    // `storage:bookmarks` PEP node, never XEP-0402 items back) keeps them in private storage, which its
    // native clients read.
    return features.has(NS.bookmarksCompat) ? 'pep' : 'private';
  }

  async #pepItems(session: UserSession): Promise<Bookmark[]> {
    let result: Element;
    try {
      result = await session.iq(
        xml('iq', { type: 'get' }, xml('pubsub', { xmlns: NS.pubsub }, xml('items', { node: NS.bookmarks }))),
        TIMEOUT_MS,
        'bookmarks read',
      );
    } catch (err) {
      // No node yet: the user never bookmarked anything.
      if (err instanceof BridgeError && err.extra.xmppCondition === 'item-not-found') return [];
      throw err;
    }
    const items = result.getChild('pubsub', NS.pubsub)?.getChild('items')?.getChildren('item') ?? [];
    return items.flatMap((i) => fromPepItem(i) ?? []);
  }

  async #storage(session: UserSession): Promise<Element | undefined> {
    const result = await session.iq(
      xml(
        'iq',
        { type: 'get' },
        xml('query', { xmlns: NS.privateStorage }, xml('storage', { xmlns: NS.legacyBookmarks })),
      ),
      TIMEOUT_MS,
      'private storage read',
    );
    return result.getChild('query', NS.privateStorage)?.getChild('storage', NS.legacyBookmarks);
  }

  /** One read-modify-write of the legacy document at a time per session. */
  #legacy<T>(
    session: UserSession,
    change: (storage: Element | undefined) => { next: Element; result: T },
  ): Promise<T> {
    const run = async (): Promise<T> => {
      const { next, result } = change(await this.#storage(session));
      await session.iq(
        xml('iq', { type: 'set' }, xml('query', { xmlns: NS.privateStorage }, next)),
        TIMEOUT_MS,
        'private storage write',
      );
      return result;
    };
    const previous = this.#lanes.get(session) ?? Promise.resolve();
    const mine = previous.then(run, run);
    this.#lanes.set(
      session,
      mine.catch(() => undefined),
    );
    return mine;
  }
}
