import { isIP } from 'node:net';

/** The link a SASL exchange runs over, as the connection knows it once the stream features arrive. */
export interface SaslLink {
  /** TLS (xmpps://) or upgraded by STARTTLS */
  secure: boolean;
  /** the address the socket is connected to (not the configured name: DNS could point anywhere) */
  remoteAddress?: string;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/**
 * Which SASL mechanism to use. SCRAM-SHA-1 first where offered (scramSha1.ts: the server checks a proof
 * with a few HMACs instead of running PBKDF2 on every login, as PLAIN makes Prosody do on its one thread),
 * unless the secret is a login token (the server checks those only as a PLAIN password) or a password
 * SASLprep could change (the server's stored keys were made from the prepared form; PLAIN sends it as is).
 * PLAIN sends the password itself, so only where nobody can read it on the way: over TLS, to a server on
 * this host (loopback), or where the operator said the network is trusted (XMPP_ALLOW_PLAIN_UNENCRYPTED).
 */
export function pickMechanism(
  offered: string[],
  link: SaslLink,
  allowPlainUnencrypted = false,
  /** a login token (LoginTokens.ts): the server checks it only as a PLAIN password, SCRAM cannot carry it */
  plainOnly = false,
  /** the password is one SCRAM can carry as it is (scramSafe) */
  scramOk = false,
): string {
  if (!plainOnly && scramOk && offered.includes('SCRAM-SHA-1')) return 'SCRAM-SHA-1';
  const plainOk = link.secure || isLoopback(link.remoteAddress) || allowPlainUnencrypted;
  if (plainOk && offered.includes('PLAIN')) return 'PLAIN';
  if (plainOnly) {
    throw new Error(
      !plainOk
        ? `refusing to send a login token as SASL PLAIN over an unencrypted connection to ${link.remoteAddress ?? 'the XMPP server'}: ` +
            'use TLS (xmpps:// or a server offering STARTTLS), or set XMPP_ALLOW_PLAIN_UNENCRYPTED=true on a trusted private network'
        : 'the XMPP server does not offer SASL PLAIN, which login tokens (XMPP_LOGIN_TOKEN_SECRET) need',
    );
  }
  const other = offered.find((m) => m !== 'PLAIN');
  if (other) return other;
  throw new Error(
    `refusing SASL PLAIN over an unencrypted connection to ${link.remoteAddress ?? 'the XMPP server'}: ` +
      'use TLS (xmpps:// or a server offering STARTTLS), or set XMPP_ALLOW_PLAIN_UNENCRYPTED=true on a trusted private network',
  );
}

/**
 * Printable ASCII only: SASLprep (RFC 4013) leaves such a password as it is, so the client's PBKDF2 input
 * is the one the server's stored keys came from. Anything else goes as PLAIN, where the server prepares it.
 */
export function scramSafe(password: string): boolean {
  return /^[\x21-\x7e]+$/.test(password);
}
