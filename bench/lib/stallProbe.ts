import type { Client } from '@xmpp/client';
import xml from '@xmpp/xml';
import pg from 'pg';
import { connectXmpp, stopXmpp, type XmppAccount } from '../load/drivers.js';
import { makeAgent, request } from './http.js';

/**
 * Which process a latency tail came from. While a scenario runs, the runner (not the load generator,
 * whose own lag is measured apart) asks each process something trivial every `intervalMs`, one question
 * in flight per process: the gateway `GET /healthz` (its event loop), Prosody an XEP-0199 ping on a c2s
 * connection of its own (its one thread), PostgreSQL `SELECT 1` (a backend and the server's CPU). The
 * slowest answer in each second says who was not answering then. A second with a delivery tail and no
 * slow answer points at queueing inside the gateway's pipeline, not at a stalled process.
 */
export interface StallSecond {
  s: number;
  gateway: number;
  xmpp: number;
  postgres: number;
}

export interface StallProbe {
  /** the slowest answer (ms) of each second since start, for each process */
  stop(): Promise<StallSecond[]>;
}

type Ask = () => Promise<unknown>;
const TIMEOUT_MS = 10_000;

export async function startStallProbe(opts: {
  gatewayUrl: string;
  xmpp: XmppAccount;
  postgresUrl: string;
  intervalMs?: number;
}): Promise<StallProbe> {
  const interval = opts.intervalMs ?? 20;
  const agent = makeAgent(1);
  const x: Client = await connectXmpp(opts.xmpp);
  const db = new pg.Client({ connectionString: opts.postgresUrl });
  await db.connect();
  const asks: Record<keyof Omit<StallSecond, 's'>, Ask> = {
    gateway: () => request(agent, 'GET', `${opts.gatewayUrl}/healthz`, { timeoutMs: TIMEOUT_MS }),
    xmpp: () =>
      x.iqCaller.request(xml('iq', { type: 'get' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), TIMEOUT_MS),
    postgres: () => db.query('SELECT 1'),
  };
  const t0 = performance.now();
  const worst = new Map<number, StallSecond>();
  let running = true;
  const loops = Object.entries(asks).map(async ([name, ask]) => {
    while (running) {
      const start = performance.now();
      await ask().catch(() => undefined); // a failure counts as slow as it took
      const took = performance.now() - start;
      const s = Math.floor((start - t0) / 1000);
      const row = worst.get(s) ?? { s, gateway: 0, xmpp: 0, postgres: 0 };
      const key = name as keyof Omit<StallSecond, 's'>;
      row[key] = Math.max(row[key], Math.round(took * 10) / 10);
      worst.set(s, row);
      const wait = interval - took;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      await Promise.allSettled([stopXmpp(x), db.end()]);
      return [...worst.values()].sort((a, b) => a.s - b.s);
    },
  };
}
