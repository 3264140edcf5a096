import { BridgeError } from '../errors/BridgeError.js';

/**
 * Path and query parameters, checked at the edge. Usernames are XMPP localparts: we accept letters,
 * digits and `._-+` (a safe subset of RFC 7613 UsernameCaseMapped) and map them to lower case, as the
 * server does, so `Alice` and `alice` are one user.
 */
const USERNAME = /^[\p{L}\p{N}._+-]{1,64}$/u;
const STREAM_ID = /^ps_[A-Za-z0-9_-]{16}$/;

export function parseUsername(raw: string): string {
  const name = raw.normalize('NFC');
  if (!USERNAME.test(name)) {
    throw new BridgeError(
      'INVALID_USERNAME',
      `"${raw.slice(0, 80)}" is not a valid username (1–64 letters, digits or . _ - +)`,
    );
  }
  return name.toLowerCase();
}

export function parseStreamId(raw: string): string {
  if (!STREAM_ID.test(raw))
    throw new BridgeError('STREAM_NOT_FOUND', `"${raw.slice(0, 80)}" is not a stream id Parley issued`);
  return raw;
}

/** A Last-Event-ID (or ?lastEventId=) is a client-sent cursor: digits only, else ignored with a 400. */
export function parseEventId(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,18}$/.test(raw))
    throw new BridgeError(
      'BAD_REQUEST',
      `Last-Event-ID "${raw.slice(0, 40)}" is not an event id Parley issued`,
    );
  return raw;
}
