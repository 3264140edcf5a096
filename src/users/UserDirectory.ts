import xml, { type Element } from '@xmpp/xml';
import type { Log } from '../log.js';
import type { Queryable } from '../store/db.js';
import { NS } from '../xmpp/ns.js';
import { buildSearchFieldsGet, buildSearchSet, parseSearchResult, type DirectoryUser } from './xep0055.js';

/** Anything that can ask the server an IQ: a user's session or the admin connection. */
export interface IqEntity {
  iq(stanza: Element, timeoutMs?: number, what?: string): Promise<Element>;
}

export interface DirectoryResult {
  /** who answered: the server's XEP-0055 search service, or the accounts Parley knows */
  source: 'xep-0055' | 'parley';
  service?: string;
  users: DirectoryUser[];
}

/** Re-discovering a search service on every query would cost several round trips each time. */
const DISCOVERY_TTL_MS = 10 * 60_000;
const MAX_ITEMS_PROBED = 8;

/**
 * `GET /chat/users?search=`: the server's user directory (XEP-0055) where it has one, else the
 * accounts Parley provisioned or saw log in (tables accounts and sessions).
 */
export class UserDirectory {
  #service: { jid?: string; at: number } | undefined;
  constructor(private readonly deps: { db: Queryable; domain: string; log: Log }) {}

  async search(term: string, limit: number, via: IqEntity | undefined): Promise<DirectoryResult> {
    const service = via ? await this.#discover(via) : undefined;
    if (via && service && term) {
      try {
        const fields = await via.iq(buildSearchFieldsGet(service), 10_000, 'search form');
        const request = buildSearchSet(service, fields.getChild('query', NS.search) ?? fields, term);
        if (request) {
          const result = await via.iq(request, 10_000, 'user search');
          return {
            source: 'xep-0055',
            service,
            users: parseSearchResult(result.getChild('query', NS.search), this.deps.domain).slice(0, limit),
          };
        }
      } catch (err) {
        this.deps.log.warn({ err, service }, "XEP-0055 search failed; answering from Parley's accounts");
      }
    }
    return { source: 'parley', users: await this.#known(term, limit) };
  }

  /** The domain itself or one of its disco items that advertises jabber:iq:search; cached either way. */
  async #discover(via: IqEntity): Promise<string | undefined> {
    if (this.#service && Date.now() - this.#service.at < DISCOVERY_TTL_MS) return this.#service.jid;
    let jid: string | undefined;
    try {
      const candidates = [this.deps.domain, ...(await this.#items(via)).slice(0, MAX_ITEMS_PROBED)];
      for (const c of candidates)
        if (await this.#offersSearch(via, c)) {
          jid = c;
          break;
        }
    } catch (err) {
      this.deps.log.debug({ err }, 'search service discovery failed');
      return undefined; // not cached: the server may just be unreachable for a moment
    }
    this.#service = { jid, at: Date.now() };
    return jid;
  }

  async #items(via: IqEntity): Promise<string[]> {
    const r = await via.iq(
      xml('iq', { type: 'get', to: this.deps.domain }, xml('query', { xmlns: NS.discoItems })),
      5000,
      'disco#items',
    );
    return (r.getChild('query', NS.discoItems)?.getChildren('item') ?? [])
      .map((i) => String(i.attrs.jid))
      .filter((j) => j && !j.includes('@'));
  }

  async #offersSearch(via: IqEntity, jid: string): Promise<boolean> {
    try {
      const r = await via.iq(
        xml('iq', { type: 'get', to: jid }, xml('query', { xmlns: NS.discoInfo })),
        5000,
        'disco#info',
      );
      return (r.getChild('query', NS.discoInfo)?.getChildren('feature') ?? []).some(
        (f) => f.attrs.var === NS.search,
      );
    } catch {
      return false; // an item that does not answer disco is simply not a search service
    }
  }

  async #known(term: string, limit: number): Promise<DirectoryUser[]> {
    const like = `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const { rows } = await this.deps.db.query<{ username: string; jid: string }>(
      `SELECT username, min(jid) AS jid FROM (SELECT username, jid FROM accounts UNION ALL SELECT username, jid FROM sessions) known
        WHERE username LIKE $1 OR jid LIKE $1 GROUP BY username ORDER BY username LIMIT $2`,
      [like, limit],
    );
    return rows.map((r) => ({ username: r.username, jid: r.jid, name: null, email: null }));
  }
}
