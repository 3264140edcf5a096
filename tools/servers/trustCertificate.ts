import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/**
 * Makes this process (and the Parley processes it spawns) trust a throw-away certificate (the test rig's
 * or the demo's ejabberd),
 * as an operator trusts a private CA with NODE_EXTRA_CA_CERTS. That variable is read only when node
 * starts, which for this process has happened, so tls.connect (through which @xmpp/tls and
 * @xmpp/starttls upgrade) gets the certificate added to the default roots while the rig runs.
 */
export function trustCertificate(caFile: string): () => void {
  const pem = readFileSync(caFile, 'utf8');
  const ca = [...tls.rootCertificates, pem];
  const original = tls.connect;
  const patched = ((...args: unknown[]) => {
    const [first] = args;
    if (first && typeof first === 'object' && !('ca' in first) && !('secureContext' in first))
      args[0] = { ...first, ca };
    return (original as (...a: unknown[]) => tls.TLSSocket)(...args);
  }) as typeof tls.connect;
  tls.connect = patched;
  const previous = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = caFile;
  return () => {
    if (tls.connect === patched) tls.connect = original;
    if (previous === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = previous;
  };
}
