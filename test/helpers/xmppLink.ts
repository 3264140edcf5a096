import type { Socket } from 'node:net';

/**
 * The TCP socket under an @xmpp client: the socket itself on a plain stream, the TLSSocket inside
 * @xmpp/tls's wrapper once STARTTLS ran (the rig's ejabberd offers it; its Prosody does not).
 */
export function rawSocket(client: unknown): Socket | undefined {
  const s = (client as { socket?: Socket & { socket?: Socket } }).socket;
  return s?.socket ?? s;
}

/** Drops the client's connection as a network failure would (no stream close, no FIN first). */
export function dropLink(client: unknown): void {
  const s = rawSocket(client);
  if (!s) throw new Error('the client has no socket to drop');
  s.destroy();
}
