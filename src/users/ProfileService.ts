/**
 * ofchat's user properties, kept on the XMPP server rather than in Parley: a PEP node (XEP-0163) of the
 * user's own account, one item per property, readable by anyone (access model open), so native clients
 * and other Parley instances see the same profile.
 *   <property xmlns="urn:parley:profile:0" name="title">Head of support</property>
 * References: XEP-0060 §7.1 (publish), §7.1.5 (publish-options), §7.2 (retract), §6.5 (retrieve items),
 * §8.2 (configure a node);
 * XEP-0163 (PEP); XEP-0223 (persistent storage via PEP).
 */
import xml, { type Element } from '@xmpp/xml';
import { BridgeError } from '../errors/BridgeError.js';
import type { UserSession } from '../xmpp/client/UserSession.js';
import { NS } from '../xmpp/ns.js';
import { publishPersistent } from '../xmpp/pep.js';

/** Property names are item ids and JSON keys: a conservative alphabet avoids surprises in both. */
const PROPERTY_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const MAX_VALUE_CHARS = 8192;

export interface Profile {
  jid: string;
  properties: Record<string, string>;
}

export function parsePropertyName(raw: string): string {
  if (!PROPERTY_NAME.test(raw)) {
    throw new BridgeError(
      'BAD_REQUEST',
      `"${raw.slice(0, 80)}" is not a property name (1–64 letters, digits or . _ : -, starting with a letter or digit)`,
    );
  }
  return raw;
}

export class ProfileService {
  /**
   * Publishes with publish-options (XEP-0060 §7.1.5): open access, persistent, and as many items as the
   * server allows, without which the PEP default keeps one item (one property). A server that takes
   * max_items only as node configuration (ejabberd) gets the node configured instead (pep.ts).
   */
  async set(session: UserSession, name: string, value: string): Promise<void> {
    const item = xml('item', { id: name }, xml('property', { xmlns: NS.parleyProfile, name }, value));
    // Without these options the server's PEP default keeps one item and may restrict readers to contacts.
    await publishPersistent(session, NS.parleyProfile, item, 'open', { what: 'profile publish' });
  }

  /** 404 when the property is not set (the server answers item-not-found). */
  async remove(session: UserSession, name: string): Promise<void> {
    const have = await this.read(session, session.bareJid);
    if (!(name in have.properties)) throw new BridgeError('NOT_FOUND', `no profile property "${name}"`);
    const retract = xml('retract', { node: NS.parleyProfile, notify: 'true' }, xml('item', { id: name }));
    await session.iq(
      xml('iq', { type: 'set' }, xml('pubsub', { xmlns: NS.pubsub }, retract)),
      10_000,
      'profile retract',
    );
  }

  /** Anyone's public properties; a user who never set one has an empty profile, not a 404. */
  async read(session: UserSession, jid: string): Promise<Profile> {
    const get = xml(
      'iq',
      { type: 'get', to: jid },
      xml('pubsub', { xmlns: NS.pubsub }, xml('items', { node: NS.parleyProfile })),
    );
    let result: Element;
    try {
      result = await session.iq(get, 10_000, 'profile read');
    } catch (err) {
      if (err instanceof BridgeError && err.extra.xmppCondition === 'item-not-found')
        return { jid, properties: {} };
      throw err;
    }
    const items = result.getChild('pubsub', NS.pubsub)?.getChild('items')?.getChildren('item') ?? [];
    const properties: Record<string, string> = {};
    for (const item of items) {
      const p = item.getChild('property', NS.parleyProfile);
      const name = String(p?.attrs.name ?? item.attrs.id ?? '');
      if (p && PROPERTY_NAME.test(name)) properties[name] = p.text();
    }
    return { jid, properties };
  }
}
