import xml, { type Element } from '@xmpp/xml';
import { BridgeError } from './BridgeError.js';
import { ERROR_CODES } from './codes.js';
import { fromDatabaseError } from './fromDatabaseError.js';
import { NS } from '../xmpp/ns.js';

/**
 * The outbound direction of the error table: a failure inside a component's stanza handler becomes the
 * `<error/>` child of the reply, with the XMPP condition the table gives its code (RFC 6120 §8.3).
 * A database outage is `wait`/`service-unavailable` (retry later); unknown errors are
 * `internal-server-error` and never leak their message.
 */
export function toStanzaError(err: unknown): Element {
  const e =
    fromDatabaseError(err) ??
    (err instanceof BridgeError ? err : new BridgeError('INTERNAL', undefined, { cause: err }));
  const spec = ERROR_CODES[e.code];
  const { type, condition } =
    'xmpp' in spec && spec.xmpp
      ? spec.xmpp
      : { type: 'cancel' as const, condition: e.extra.xmppCondition ?? 'undefined-condition' };
  const el = xml('error', { type }, xml(condition, { xmlns: NS.stanzas }));
  if (e.expose && e.detail) el.append(xml('text', { xmlns: NS.stanzas }, e.detail));
  return el;
}
