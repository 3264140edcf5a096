import { connect } from 'node:net';

/** Readiness without an admin session: does the c2s port accept TCP? */
export function tcpReachable(service: string, timeoutMs = 2000): Promise<boolean> {
  const u = new URL(service);
  const port = Number(u.port || (u.protocol === 'xmpps:' ? 5223 : 5222));
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
