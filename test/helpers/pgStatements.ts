import pg from 'pg';

/**
 * What the gateway's pool sends, whoever asks (the message log and every other query alike): the gateway
 * runs in-process, so the driver itself is watched, counting only the clients this pool hands out (other
 * gateways of the same test process have pools of their own).
 */
export function recordStatements(pool: pg.Pool): { statements: string[]; stop(): void } {
  const statements: string[] = [];
  const ours = new WeakSet<object>();
  const mark = (client: pg.PoolClient) => ours.add(client);
  pool.on('acquire', mark);
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: object, ...args: unknown[]) {
    const q = args[0] as string | { name?: string; text?: string };
    if (ours.has(this)) statements.push(typeof q === 'string' ? q : (q.name ?? q.text ?? ''));
    return original.apply(this, args);
  };
  return {
    statements,
    stop: () => {
      proto.query = original;
      pool.off('acquire', mark);
    },
  };
}
