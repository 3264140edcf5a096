import { randomUUID } from 'node:crypto';
import type { Element } from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { parseJid, bareJid, normalizeJid } from '../xmpp/jid.js';
import type { SendPolicy } from '../moderation/ports.js';

/**
 * ofchat's `POST /chat/{streamid}/xmpp`, made safe: the stanza may only speak as the session itself
 * (RFC 6120 §8.1.2.1 lets the server stamp `from`, so we drop it once checked), and an iq get/set
 * waits for its answer so the caller gets it back.
 */
export class RawStanzaService {
  constructor(private readonly deps: { domain: string; policy: SendPolicy; iqTimeoutMs?: number }) {}

  /** Sends the stanza; for an iq get/set resolves with the reply (result or error), else undefined. */
  async send(session: UserSession, el: Element): Promise<Element | undefined> {
    this.#checkFrom(session, el);
    delete el.attrs.from;
    const type = el.attrs.type as string | undefined;
    // A raw stanza can say anything to anyone; only a query (iq get) stays open to a muted user.
    if (!(el.name === 'iq' && type === 'get')) await this.deps.policy.assertMaySend(session.username);
    if (el.name !== 'iq' || (type !== 'get' && type !== 'set')) {
      await session.send(el);
      return undefined;
    }
    el.attrs.id ??= randomUUID();
    return this.#request(session, el);
  }

  #checkFrom(session: UserSession, el: Element): void {
    const from = el.attrs.from as string | undefined;
    if (from === undefined) return;
    let jid: string | undefined;
    try {
      jid = parseJid(from, this.deps.domain).full;
    } catch {
      /* malformed counts as spoofed */
    }
    if (jid !== session.bareJid && jid !== `${session.bareJid}/${session.resource}`) {
      throw new BridgeError(
        'SPOOFED_FROM',
        `from="${from.slice(0, 120)}" is not this session's JID (${session.fullJid}); leave it out`,
      );
    }
  }

  /** Matches the reply by id and by sender (the addressee, or our own account/server when none). */
  #request(session: UserSession, el: Element): Promise<Element> {
    const id = String(el.attrs.id);
    const to = el.attrs.to ? normalizeJid(String(el.attrs.to)) : undefined;
    const fromOk = (from: string | undefined): boolean =>
      to === undefined
        ? !from || bareJid(from) === session.bareJid || from === this.deps.domain
        : normalizeJid(from ?? '') === to || (!from && to === session.bareJid);
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(new BridgeError('XMPP_TIMEOUT', `no answer to iq ${id.slice(0, 60)}`));
      }, this.deps.iqTimeoutMs ?? 10_000);
      const onStanza = (s: Element): void => {
        if (s.name !== 'iq' || s.attrs.id !== id || !['result', 'error'].includes(String(s.attrs.type)))
          return;
        if (!fromOk(s.attrs.from as string | undefined)) return;
        done();
        resolve(s);
      };
      const done = (): void => {
        clearTimeout(timer);
        session.off('stanza', onStanza);
      };
      session.on('stanza', onStanza);
      session.send(el).catch((err: unknown) => {
        done();
        reject(err);
      });
    });
  }
}
