import { Client as ClientCore } from '@xmpp/client-core';

/**
 * True when patches/@xmpp+connection+0.14.0.patch is in effect: socket data arriving after the stream's
 * parser was detached is dropped instead of throwing an uncaught TypeError (xmppjs/xmpp.js#860).
 * npm ci applies it (postinstall); an install with --ignore-scripts needs `npx patch-package` after it.
 */
export function connectionPatchApplied(): boolean {
  const onData = (ClientCore.prototype as unknown as { _onData?: (data: Buffer) => void })._onData;
  if (typeof onData !== 'function') return false;
  try {
    onData.call({ parser: null }, Buffer.alloc(0));
    return true;
  } catch {
    return false;
  }
}
