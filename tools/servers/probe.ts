import { connect } from 'node:net';

/**
 * Readiness probes for the throw-away servers: open a loopback TCP connection, write a greeting, and
 * decide from the first reply. A refused connection, a close or a 1 s silence all mean "not yet".
 */
export function probeTcp(
  port: number,
  greeting: string,
  answer: (received: string) => boolean | undefined,
): Promise<boolean> {
  return new Promise((done) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let buf = '';
    const finish = (ok: boolean): void => {
      sock.destroy();
      done(ok);
    };
    sock.setTimeout(1000, () => finish(false));
    sock.once('error', () => finish(false));
    sock.once('close', () => finish(false));
    sock.once('connect', () => sock.write(greeting));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      const verdict = answer(buf);
      if (verdict !== undefined) finish(verdict);
    });
  });
}

/** An XMPP server has finished starting once it answers a c2s stream header with its own. */
export function streamAnswers(port: number, domain: string): Promise<boolean> {
  return probeTcp(
    port,
    `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
      `xmlns:stream='http://etherx.jabber.org/streams' to=${JSON.stringify(domain)} version='1.0'>`,
    (buf) => (buf.includes('<stream:stream') ? true : undefined),
  );
}

/** A raw RESP PING: readiness needs no client library, and a LOADING reply just means "not yet". */
export function redisPings(port: number): Promise<boolean> {
  return probeTcp(port, 'PING\r\n', (buf) => (buf.includes('\r\n') ? buf.startsWith('+PONG') : undefined));
}
