import { createHash } from 'node:crypto';
import type { CallbackSigner } from '../callbacks/CallbackDispatcher.js';
import type { NewCallback } from '../callbacks/CallbackOutbox.js';
import { epochNow, rcpChecksum, v1Checksum } from './checksum.js';
import type { Meeting } from './MeetingStore.js';
import { pyJsonDumps } from './pyJson.js';

/**
 * The callbacks BBB-Chat sent (reference §1.1 "v1 callback" and §1.4), as outbox entries:
 *  - v1 chats: `{user_name, message}` POSTed to callback_uri, signed like a v1 `sendChatMessage` call;
 *  - v2 chats: `{user_name, message, chat_id}` to callback_uri/sendMessage and `{chat_id}` to
 *    callback_uri/clearChat, signed with RCP (salt = the endpoint name); chat_id is the callback_id.
 * The checksum is added as the last key when each attempt is signed, and the body is Python-style JSON,
 * byte for byte what BBB-Chat's `json.dumps` produced.
 */
export const SIGNERS: Record<string, CallbackSigner> = {
  'bbb-v1': (salt, params, secret) =>
    pyJsonDumps({ ...params, checksum: v1Checksum(salt, params, secret, epochNow()) }),
  rcp: (salt, params, secret) =>
    pyJsonDumps({ ...params, checksum: rcpChecksum(salt, params, secret, epochNow()) }),
};

/** Python's os.path.join(callback_uri, leaf) as BBB-Chat used it. */
export const joinUri = (base: string, leaf: string): string =>
  base.endsWith('/') ? base + leaf : `${base}/${leaf}`;

/** Callbacks of one chat go out in order; a chat id bridged again later keeps the same queue. */
export const orderingKeyOf = (m: Meeting): string => `bbb:${m.registeredId}`;

/** Stable per cause (a BBB message id, a room stanza id …), so a duplicate event queues nothing new. */
export const idempotencyKeyOf = (m: Meeting, source: string): string =>
  createHash('sha256').update(`bbb:${m.id}:${source}`, 'utf8').digest('hex').slice(0, 32);

export function messageCallback(
  m: Meeting,
  msg: { userName: string; message: string },
  source: string,
): NewCallback | undefined {
  const cb = m.callback;
  if (!cb) return undefined;
  const common = {
    orderingKey: orderingKeyOf(m),
    secretEnc: cb.secretEnc,
    idempotencyKey: idempotencyKeyOf(m, source),
  };
  if (m.apiVersion === 1) {
    return {
      ...common,
      url: cb.uri,
      scheme: 'bbb-v1',
      salt: 'sendChatMessage',
      params: { user_name: msg.userName, message: msg.message },
    };
  }
  return {
    ...common,
    url: joinUri(cb.uri, 'sendMessage'),
    scheme: 'rcp',
    salt: 'sendMessage',
    params: { user_name: msg.userName, message: msg.message, chat_id: cb.id ?? m.registeredId },
  };
}

/** v2 only: BBB-Chat v1 had no clearChat callback. */
export function clearCallback(m: Meeting, source: string): NewCallback | undefined {
  const cb = m.callback;
  if (!cb || m.apiVersion === 1) return undefined;
  return {
    orderingKey: orderingKeyOf(m),
    secretEnc: cb.secretEnc,
    idempotencyKey: idempotencyKeyOf(m, source),
    url: joinUri(cb.uri, 'clearChat'),
    scheme: 'rcp',
    salt: 'clearChat',
    params: { chat_id: cb.id ?? m.registeredId },
  };
}
