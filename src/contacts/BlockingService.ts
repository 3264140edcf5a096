/**
 * XEP-0191 Blocking Command: the server drops everything a blocked JID sends the user (messages,
 * presence, IQs) and hides the user's presence from them.
 * References: https://xmpp.org/extensions/xep-0191.html
 */
import xml, { type Element } from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';
import type { EventHub } from '../sse/EventHub.js';
import { EVENT_NAMES } from '../sse/events.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { bareJid, normalizeJid } from '../xmpp/jid.js';

const items = (el: Element | undefined): string[] =>
  (el?.getChildren('item') ?? []).flatMap((i) => (i.attrs.jid ? [normalizeJid(String(i.attrs.jid))] : []));

export class BlockingService {
  constructor(private readonly deps: { hub: EventHub }) {}

  async list(session: UserSession): Promise<string[]> {
    const result = await session.iq(
      xml('iq', { type: 'get' }, xml('blocklist', { xmlns: NS.blocking })),
      10_000,
      'blocklist get',
    );
    return items(result.getChild('blocklist', NS.blocking)).sort();
  }

  async block(session: UserSession, jid: string): Promise<void> {
    await session.iq(
      xml('iq', { type: 'set' }, xml('block', { xmlns: NS.blocking }, xml('item', { jid }))),
      10_000,
      'block',
    );
  }

  /** 404 when the JID is not blocked: the server would accept the unblock silently. */
  async unblock(session: UserSession, jid: string): Promise<void> {
    if (!(await this.list(session)).includes(jid))
      throw new BridgeError('NOT_FOUND', `${jid} is not blocked`);
    await session.iq(
      xml('iq', { type: 'set' }, xml('unblock', { xmlns: NS.blocking }, xml('item', { jid }))),
      10_000,
      'unblock',
    );
  }

  /**
   * Blocklist push (another client of the user, or this one): every tab learns the change, as a durable
   * `chatapi.presence` `{type: "blocked" | "unblocked", jids}` (blocking hides presence both ways).
   * An unblock without items means everything was unblocked.
   */
  async onPush(session: UserSession, stanza: Element): Promise<Element | true> {
    const from = stanza.attrs.from as string | undefined;
    if (from && bareJid(from) !== session.bareJid)
      return xml('error', { type: 'cancel' }, xml('service-unavailable', NS.stanzas));
    const child = stanza.getChild('block', NS.blocking) ?? stanza.getChild('unblock', NS.blocking);
    if (!child) return true;
    const payload = {
      type: child.name === 'block' ? 'blocked' : 'unblocked',
      to: session.bareJid,
      jids: items(child),
    };
    await this.deps.hub.publish(session.username, EVENT_NAMES.presence, payload, { durable: true });
    return true;
  }
}
