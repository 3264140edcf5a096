import { parseServerKind, type XmppServerKind } from '../../tools/servers/xmppServer.js';

/**
 * Which XMPP server this run tests: PARLEY_TEST_SERVER=prosody|ejabberd (default prosody). Known when
 * the spec files load, before the rig starts, so test declarations (needs.ts) can depend on it.
 */
export function serverKind(): XmppServerKind {
  return parseServerKind(process.env.PARLEY_TEST_SERVER);
}
