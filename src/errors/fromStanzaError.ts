import type { Element } from '@xmpp/xml';
import { BridgeError } from './BridgeError.js';
import type { ErrorCode } from './codes.js';
import { fromDatabaseError } from './fromDatabaseError.js';

/** The inbound direction of the error table: an XMPP error condition → the code we answer with. */
const CONDITION_TO_CODE: Record<string, ErrorCode> = {
  'bad-request': 'XMPP_REFUSED',
  'jid-malformed': 'INVALID_JID',
  'item-not-found': 'NOT_FOUND',
  'recipient-unavailable': 'NOT_FOUND',
  'remote-server-not-found': 'NOT_FOUND',
  forbidden: 'FORBIDDEN',
  'not-authorized': 'FORBIDDEN',
  'registration-required': 'FORBIDDEN',
  'not-allowed': 'FORBIDDEN',
  conflict: 'CONFLICT',
  'service-unavailable': 'XMPP_UNAVAILABLE',
  'remote-server-timeout': 'XMPP_TIMEOUT',
  'policy-violation': 'BODY_TOO_LARGE',
  'resource-constraint': 'XMPP_UNAVAILABLE',
  'internal-server-error': 'XMPP_UNAVAILABLE',
};

export interface StanzaErrorLike {
  condition: string;
  text?: string;
  element?: Element;
}

/** Turns an @xmpp StanzaError (or a `<error/>` element) into a BridgeError carrying the XMPP condition. */
export function fromStanzaError(err: unknown, what = 'request'): BridgeError {
  if (err instanceof BridgeError) return err;
  const db = fromDatabaseError(err);
  if (db) return db;
  const e = err as { name?: string; condition?: string; text?: string };
  if (e?.name === 'TimeoutError')
    return new BridgeError('XMPP_TIMEOUT', `the XMPP server did not answer the ${what}`, { cause: err });
  if (typeof e?.condition === 'string') {
    const code = CONDITION_TO_CODE[e.condition] ?? 'XMPP_REFUSED';
    const text = e.text ? `: ${e.text}` : '';
    return new BridgeError(code, `${what} refused by the XMPP server (${e.condition}${text})`, {
      xmppCondition: e.condition,
      xmppText: e.text,
      cause: err,
      retryAfter: code === 'XMPP_UNAVAILABLE' ? 5 : undefined,
    });
  }
  return new BridgeError(
    'XMPP_UNAVAILABLE',
    `the ${what} could not be completed: ${(err as Error)?.message ?? err}`,
    { cause: err, retryAfter: 5 },
  );
}
