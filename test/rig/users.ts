import { randomBytes } from 'node:crypto';
import { rig } from './rig.js';

/**
 * Unique XMPP accounts per test: the XMPP server keeps offline messages, rosters and archives per user
 * across the whole run, so reusing a name would leak state between tests.
 */

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const issued = new Set<string>();

function suffix(len = 6): string {
  return Array.from(randomBytes(len), (b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** e.g. `alice-k3f9x2`; lowercase because JID localparts are case-folded by the server. */
export function uniqueUser(prefix = 'u'): string {
  for (;;) {
    const name = `${prefix.toLowerCase()}-${suffix()}`;
    if (!issued.has(name)) {
      issued.add(name);
      return name;
    }
  }
}

export interface TestUser {
  username: string;
  password: string;
  jid: string;
}

/** A fresh account on the rig's XMPP server (prosodyctl ~40 ms; ejabberd's HTTP API ~5 ms). */
export async function registerUser(prefix = 'u'): Promise<TestUser> {
  const username = uniqueUser(prefix);
  const password = randomBytes(9).toString('base64url');
  await rig.xmpp.register(username, password);
  return { username, password, jid: `${username}@${rig.xmpp.domain}` };
}
